"""MkDocs hook: a test that a page names as the proof of a claim links to that test's source.

A page names its proof in backticks, `` `test_a_killed_worker_loses_no_task` ``. This hook
- fails the build when a named test does not exist, with the page, the line and the fix;
- fails the build when a "Don't" box (or one bullet of a box written as a list) names no test;
- turns each such name into a link to its entry on the Proofs page (`reference/proofs.md`);
- fills that page: for each named test, the pages that name it and the test's source.

The test run checks the other half: every named test ran and passed
(`tests/fence_guard/run_hooks.py`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TEST_FOLDERS = (ROOT / "snippets" / "tests", ROOT / "tests")
PROOFS_PAGE = "reference/proofs.md"
NAMED_TEST = re.compile(r"`(test_\w+)`")
# Inline code in the rendered HTML; one already inside a link is left alone.
_INLINE_NAME = re.compile(r"(<a\b[^>]*>)?<code>(test_\w+)</code>")


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


def pages_naming_tests() -> dict[str, list[str]]:
    """Each named test, with the pages (`database/soft-delete.md`) that name it, read from `docs/`."""
    naming: dict[str, list[str]] = {}
    for path in sorted(DOCS.rglob("*.md")):
        page = path.relative_to(DOCS).as_posix()
        for _, name in named_tests(page, path.read_text(encoding="utf-8")):
            if page not in naming.setdefault(name, []):
                naming[name].append(page)
    return naming


# What the snippets extension acts on: a section marker anywhere in a line, an include or a block
# marker at its start.
_SNIPPET_LINE = re.compile(
    r"^([ \t]*)(;*-+8<-+(?:[ \t]|$))|^(.*?)(;*-+8<-+[ \t]+\[[ \t]*(?:start|end)[ \t]*:)", re.IGNORECASE
)


def _escape_snippet_syntax(code: str) -> str:
    """The snippets extension reads this page too: one more `;` before its scissors shows a line as written.

    Unescaped, a test that mentions a section marker would lose that line on the page.
    """

    def escape(match: re.Match[str]) -> str:
        return f"{match[1]};{match[2]}" if match[2] else f"{match[3]};{match[4]}"

    return "\n".join(_SNIPPET_LINE.sub(escape, line, count=1) for line in code.split("\n"))


def page_title(page: str) -> str:
    """A page's title: its first `# ` heading."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), page)


def fenced_python(code: str) -> str:
    """`code` in a Python fence longer than any run of backticks in it, so no line of it ends the block."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", code)), default=0))
    return f"{fence}python\n{code}\n{fence}"


def proofs_markdown() -> str:
    """The generated part of the Proofs page: one entry per named test, by test module."""
    naming = pages_naming_tests()
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
        named_on = ", ".join(f"[{page_title(page)}](../{page})" for page in naming[source.name])
        parts.append(
            f"### `{source.name}`{anchor}\n\n"
            f"Named on {named_on}. From `{source.path}`, line {source.line}:\n\n"
            f"{fenced_python(_escape_snippet_syntax(source.source))}\n"
        )
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fail on a named test that does not exist or a "Don't" box that names none; fill the Proofs page."""
    # The file as written: other hooks have already added lines to `markdown`, which would shift them.
    source = Path(page.file.abs_src_path).read_text(encoding="utf-8") if page.file.abs_src_path else markdown
    where = f"docs/{page.file.src_uri}"
    problems = unknown(named_tests(where, source)) + unproven_boxes(where, source)
    if problems:
        raise PluginError("\n".join(problems))
    if page.file.src_uri == PROOFS_PAGE:
        return markdown.rstrip("\n") + "\n\n" + proofs_markdown()
    return markdown


@event_priority(20)  # before mkdocs-llmstxt and search read the page: they get the link too
def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Link each named test to its entry on the Proofs page."""
    if page.file.src_uri == PROOFS_PAGE:
        return html
    proofs_url = get_relative_url(PROOFS_PAGE.removesuffix(".md") + "/", page.url or ".")

    def link(match: re.Match[str]) -> str:
        if match[1] or match[2] not in defined_tests():
            return match[0]
        title = "The test that proves this: open its source"
        return f'<a class="proof-link" href="{proofs_url}#{match[2]}" title="{title}"><code>{match[2]}</code></a>'

    return _INLINE_NAME.sub(link, html)
