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


def test_every_test_a_page_names_exists() -> None:
    missing = [
        f"{page.relative_to(ROOT)}:{number}: `{name}` is no test; rename it to the test that proves the claim"
        for page in sorted((ROOT / "docs").rglob("*.md"))
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
        for name in _NAMED_TEST.findall(line)
        if name not in defined_tests()
    ]
    assert not missing, "\n".join(missing)


def test_the_check_finds_the_tests_it_must() -> None:
    assert {"test_poetry_2_rejects_no_dev", "test_every_test_a_page_names_exists"} <= defined_tests()
    assert "test_that_nobody_wrote" not in defined_tests()
