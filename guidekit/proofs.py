"""Proof links: a page names, in backticks, the test that proves a claim (`test_a_killed_worker_loses_no_task`).

The build's half (`guidekit.extensions.proofs` calls it): a named test must exist (`unknown`); a "Don't"
box, or each bullet of a box written as a list, must name one (`unproven_boxes`); the Proofs page
lists every named test with its source (`proofs_markdown`). The run's half: every named test ran
and passed (`unproven`, fed by `Recorder`, checked by `guidekit.guard.run_hooks` after the last test).
"""

import ast
import re
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from guidekit.markdown.includes import escape_snippet_syntax
from guidekit.paths import DOCS, ROOT, SERVICE_TESTS, SITE_TESTS

TEST_FOLDERS = (SERVICE_TESTS, SITE_TESTS)
PROOFS_PAGE = "reference/proofs.md"
NAMED_TEST = re.compile(r"`(test_\w+)`")


@dataclass(frozen=True)
class TestSource:
    """Where a test function is defined, and its source with decorators."""

    name: str
    path: str  # relative to the repository root
    line: int
    source: str


@cache
def defined_tests() -> dict[str, tuple[TestSource, ...]]:
    """Every test function of the service's tests and the site's tests, by name.

    A name may be defined in more than one module (each domain tests its own 404s); a page
    naming it is then proven by all of them.
    """
    found: dict[str, list[TestSource]] = {}
    for folder in TEST_FOLDERS:
        for module in sorted(folder.rglob("test_*.py")):
            text = module.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
                    source = "\n".join(text.splitlines()[first - 1 : node.end_lineno])
                    where = module.relative_to(ROOT).as_posix()
                    found.setdefault(node.name, []).append(TestSource(node.name, where, node.lineno, source))
    return {name: tuple(sources) for name, sources in found.items()}


def named_tests(page: str, text: str) -> list[tuple[str, str]]:
    """Each test a page's text names, as (`page:line`, name)."""
    return [
        (f"{page}:{number}", name)
        for number, line in enumerate(text.splitlines(), start=1)
        for name in NAMED_TEST.findall(line)
    ]


def unknown(named: list[tuple[str, str]]) -> list[str]:
    """The named tests that do not exist, each with where it is named and the fix."""
    return [
        f"{where}: `{name}` is no test; name the test that proves the claim (a function in snippets/tests or tests)"
        for where, name in named
        if name not in defined_tests()
    ]


# `!!! danger "Don't..."` (or a collapsible `???`), at any indentation.
_DONT_BOX = re.compile(r"""^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?)[ \t]+danger[ \t]+"Don't""")
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def dont_boxes(text: str) -> list[tuple[int, list[tuple[int, str]]]]:
    """Each "Don't" box: its line number and its body's numbered lines (blank ones included)."""
    lines = text.splitlines()
    boxes = []
    for number, line in enumerate(lines, start=1):
        if match := _DONT_BOX.match(line):
            body = []
            for later, next_line in enumerate(lines[number:], start=number + 1):
                if next_line.strip() and _indent(next_line) <= len(match["indent"]):
                    break
                body.append((later, next_line))
            boxes.append((number, body))
    return boxes


def unproven_boxes(page: str, text: str) -> list[str]:
    """The "Don't" boxes that name no proving test, and in a box written as a list, each bullet that names none."""
    fix = "name the test that proves it in backticks, e.g. (proven by `test_x`)"
    problems = []
    for start, body in dont_boxes(text):
        content = [(number, line) for number, line in body if line.strip()]
        if not content:
            problems.append(f'{page}:{start}: this "Don\'t" box is empty; say what not to do and {fix}')
            continue
        top = min(_indent(line) for _, line in content)
        bullets = [index for index, (_, line) in enumerate(content) if _indent(line) == top and _BULLET.match(line)]
        if not bullets:
            if not NAMED_TEST.search("\n".join(line for _, line in content)):
                problems.append(f'{page}:{start}: this "Don\'t" box names no test; {fix}')
            continue
        for first, end in zip(bullets, [*bullets[1:], len(content)], strict=True):
            if not NAMED_TEST.search("\n".join(line for _, line in content[first:end])):
                number = content[first][0]
                problems.append(
                    f'{page}:{number}: this bullet of the "Don\'t" box at line {start} names no test; {fix}'
                )
    return problems


def pages_naming_tests(docs: Path = DOCS) -> dict[str, list[str]]:
    """Each named test, with the pages (`database/soft-delete.md`) that name it, read from `docs`."""
    naming: dict[str, list[str]] = {}
    for path in sorted(docs.rglob("*.md")):
        page = path.relative_to(docs).as_posix()
        for _, name in named_tests(page, path.read_text(encoding="utf-8")):
            if page not in naming.setdefault(name, []):
                naming[name].append(page)
    return naming


def page_title(page: str, docs: Path = DOCS) -> str:
    """A page's title: its first `# ` heading."""
    text = (docs / page).read_text(encoding="utf-8")
    return next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), page)


def fenced_python(code: str) -> str:
    """`code` in a Python fence longer than any run of backticks in it, so no line of it ends the block."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", code)), default=0))
    return f"{fence}python\n{code}\n{fence}"


def proofs_markdown(docs: Path = DOCS) -> str:
    """The generated part of the Proofs page, from the pages in `docs`: one entry per named test, by test module."""
    naming = pages_naming_tests(docs)
    entries = sorted(
        (source for name in naming if name in defined_tests() for source in defined_tests()[name]),
        key=lambda source: (source.path, source.line),
    )
    written: set[str] = set()
    parts: list[str] = []
    module = ""
    for source in entries:
        if source.path != module:
            module = source.path
            parts.append(f"## `{module}`\n")
        anchor = f" {{ #{source.name} }}" if source.name not in written else ""
        written.add(source.name)
        named_on = ", ".join(f"[{page_title(page, docs)}](../{page})" for page in naming[source.name])
        # The source in a closed box: hundreds of open listings made this a 40,000-element page
        # that a phone's browser styled and laid out whole (guidekit/extensions/proofs.py then
        # keeps each listing out of the page until its box opens).
        listing = textwrap.indent(fenced_python(escape_snippet_syntax(source.source)), "    ", lambda _: True)
        parts.append(
            f"### `{source.name}`{anchor}\n\n"
            f"Named on {named_on}.\n\n"
            f'??? example "From `{source.path}`, line {source.line}"\n\n'
            f"{listing}\n"
        )
    return "\n".join(parts)


# The run's half: each test a page names ran and passed in this run.

OUTCOMES: dict[str, set[str]] = {}


def function_name(nodeid: str) -> str:
    """`snippets/tests/x.py::TestY::test_z[param]` -> `test_z`."""
    return nodeid.split("[")[0].split("::")[-1]  # a parameter id may hold `::` itself


class Recorder:
    """Registered as a plugin, so it sees every report: a conftest's hooks see only its folder's
    tests when pytest runs without workers."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record(report)


def record(report: pytest.TestReport) -> None:
    """Note a report's outcome: a failed setup or teardown fails the test, a skipped setup skips it."""
    if report.when == "call" or report.outcome != "passed":
        OUTCOMES.setdefault(function_name(report.nodeid), set()).add(report.outcome)


def unproven(naming: dict[str, list[str]], outcomes: dict[str, set[str]], whole_run: bool) -> list[str]:
    """The named tests that are no proof in this run: failed, skipped, or (in the whole run) not run."""
    problems = []
    for name, pages in sorted(naming.items()):
        where = ", ".join(pages)
        seen = outcomes.get(name, set())
        if "failed" in seen:
            problems.append(f"`{name}` is named as a proof on {where} but failed in this run")
        elif "skipped" in seen:
            problems.append(f"`{name}` is named as a proof on {where} but was skipped in this run")
        elif not seen and whole_run:
            problems.append(
                f"`{name}` is named as a proof on {where} but did not run; is it collected (a test_*.py module)?"
            )
    return problems
