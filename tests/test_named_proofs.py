"""A test a page names as the proof of a claim (`test_...` in backticks) is a test that exists."""

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_NAMED_TEST = re.compile(r"`(test_\w+)`")


@cache
def defined_tests() -> frozenset[str]:
    """Every test function in the service's tests and the site's tests."""
    names: set[str] = set()
    for module in [*(ROOT / "snippets" / "tests").rglob("test_*.py"), *(ROOT / "tests").rglob("test_*.py")]:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return frozenset(names)


def named_tests(page: str, text: str) -> list[tuple[str, str]]:
    """Each test a page's text names, as (`page:line`, name)."""
    return [
        (f"{page}:{number}", name)
        for number, line in enumerate(text.splitlines(), start=1)
        for name in _NAMED_TEST.findall(line)
    ]


def unknown(named: list[tuple[str, str]]) -> list[str]:
    """The named tests that do not exist, each with where it is named and the fix."""
    return [
        f"{where}: `{name}` is no test; name the test that proves the claim"
        for where, name in named
        if name not in defined_tests()
    ]


def test_every_test_a_page_names_exists() -> None:
    named = [
        pair
        for page in sorted((ROOT / "docs").rglob("*.md"))
        for pair in named_tests(page.relative_to(ROOT / "docs").as_posix(), page.read_text(encoding="utf-8"))
    ]
    assert ("devops/docker.md", "test_poetry_2_rejects_no_dev") in {(w.split(":")[0], n) for w, n in named}
    problems = unknown(named)
    assert not problems, "\n".join(problems)


def test_a_name_that_is_no_test_is_reported_with_its_page_and_line() -> None:
    text = "Proven by `test_poetry_2_rejects_no_dev`.\nAnd by `test_that_nobody_wrote`.\n"
    assert unknown(named_tests("x.md", text)) == [
        "x.md:2: `test_that_nobody_wrote` is no test; name the test that proves the claim"
    ]
