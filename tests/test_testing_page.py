"""The testing page covers every fixture of the service (conftest and servers plugin), and shows the real settings."""

import ast
import tomllib
from pathlib import Path

from guidekit.guard.shared import is_subset
from guidekit.markdown.fences import parse_page
from guidekit.markdown.includes import fence_includes, include_targets, resolve, split_target
from guidekit.paths import DOCS, ROOT, SNIPPETS

FIXTURE_MODULES = (SNIPPETS / "tests" / "conftest.py", SNIPPETS / "tests" / "servers.py")
PAGE = DOCS / "devops" / "testing.md"


def fixtures() -> dict[str, tuple[str, int]]:
    """Each fixture of the service's conftest and servers plugin, with its module and the line of its `def`."""
    found = {}
    for module in FIXTURE_MODULES:
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                decorators = [ast.unparse(decorator) for decorator in node.decorator_list]
                if any(".fixture" in decorator for decorator in decorators):
                    found[node.name] = (module.relative_to(SNIPPETS).as_posix(), node.lineno)
    return found


def test_every_fixture_is_shown_and_named_on_the_page() -> None:
    page = PAGE.read_text()
    shown = {
        (split_target(target)[0], line)
        for _, target in include_targets(page)
        for line in resolve(target, [SNIPPETS]).lines
    }

    assert {"postgres_server", "session", "client"} <= fixtures().keys()
    for name, (module, line) in fixtures().items():
        assert (module, line) in shown, f"fixture {name} is in no section of {module} that {PAGE.name} includes"
        assert f"`{name}`" in page, f"{PAGE.name} never names the fixture `{name}`"


def test_the_pytest_settings_on_the_page_are_the_real_ones() -> None:
    """The service's settings are included from its pyproject.toml; the root run's are an excerpt of the root's."""
    fences = [fence for fence in parse_page(PAGE.read_text(), Path(PAGE.name)) if fence.language == "toml"]
    [service] = [fence for fence in fences if fence_includes(fence.body)]
    [root_run] = [fence for fence in fences if not fence_includes(fence.body)]
    real = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert fence_includes(service.body) == ["pyproject.toml:pytest_config"]
    assert is_subset(tomllib.loads(root_run.body)["tool"], real["tool"])
