"""The testing page covers every fixture of the service's conftest, and its pytest settings are the real ones."""

import ast
import tomllib
from pathlib import Path

from guidekit.guard.check_config import is_subset
from guidekit.markdown.fences import parse_page
from guidekit.markdown.includes import fence_includes, include_targets, resolve, split_target
from guidekit.paths import DOCS, ROOT, SNIPPETS

CONFTEST = SNIPPETS / "tests" / "conftest.py"
PAGE = DOCS / "devops" / "testing.md"


def fixtures() -> dict[str, int]:
    """Each fixture of the conftest, with the line of its `def`."""
    found = {}
    for node in ast.parse(CONFTEST.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorators = [ast.unparse(decorator) for decorator in node.decorator_list]
            if any(".fixture" in decorator for decorator in decorators):
                found[node.name] = node.lineno
    return found


def test_every_fixture_is_shown_and_named_on_the_page() -> None:
    page = PAGE.read_text()
    conftest = CONFTEST.relative_to(SNIPPETS).as_posix()
    shown = [
        line
        for _, target in include_targets(page)
        if split_target(target)[0] == conftest
        for line in resolve(target, [SNIPPETS]).lines
    ]

    assert {"postgres_server", "session", "client"} <= fixtures().keys()
    for name, line in fixtures().items():
        assert line in shown, f"fixture {name} is in no section of conftest.py that {PAGE.name} includes"
        assert f"`{name}`" in page, f"{PAGE.name} never names the fixture `{name}`"


def test_the_pytest_settings_on_the_page_are_the_real_ones() -> None:
    """The service's settings are included from its pyproject.toml; the root run's are an excerpt of the root's."""
    fences = [fence for fence in parse_page(PAGE.read_text(), Path(PAGE.name)) if fence.language == "toml"]
    [service] = [fence for fence in fences if fence_includes(fence.body)]
    [root_run] = [fence for fence in fences if not fence_includes(fence.body)]
    real = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert fence_includes(service.body) == ["pyproject.toml:pytest_config"]
    assert is_subset(tomllib.loads(root_run.body)["tool"], real["tool"])
