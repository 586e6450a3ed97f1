"""The testing page covers every fixture of the service's conftest, and its pytest settings are the real ones."""

import ast
import re
import tomllib

from guidekit.guard.shared import is_subset
from guidekit.paths import ROOT

CONFTEST = ROOT / "snippets" / "tests" / "conftest.py"
PAGE = ROOT / "docs" / "devops" / "testing.md"
INCLUDE = re.compile(r'--8<-- "tests/conftest\.py:(\w+)"')


def fixtures() -> dict[str, int]:
    """Each fixture of the conftest, with the line of its `def`."""
    found = {}
    for node in ast.parse(CONFTEST.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorators = [ast.unparse(decorator) for decorator in node.decorator_list]
            if any(".fixture" in decorator for decorator in decorators):
                found[node.name] = node.lineno
    return found


def section_lines(name: str) -> range:
    """The lines of the conftest between the markers of one section."""
    lines = CONFTEST.read_text().splitlines()
    start = lines.index(f"# --8<-- [start:{name}]")
    return range(start + 1, lines.index(f"# --8<-- [end:{name}]") + 1)


def test_every_fixture_is_shown_and_named_on_the_page() -> None:
    page = PAGE.read_text()
    shown = [line for name in INCLUDE.findall(page) for line in section_lines(name)]

    assert {"postgres_server", "session", "client"} <= fixtures().keys()
    for name, line in fixtures().items():
        assert line in shown, f"fixture {name} is in no section of conftest.py that {PAGE.name} includes"
        assert f"`{name}`" in page, f"{PAGE.name} never names the fixture `{name}`"


def test_the_pytest_settings_on_the_page_are_the_real_ones() -> None:
    """The service's settings are included from its pyproject.toml; the root run's are an excerpt of the root's."""
    fences = re.findall(r"```toml\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    [service] = [fence for fence in fences if fence.startswith("--8<--")]
    [root_run] = [fence for fence in fences if not fence.startswith("--8<--")]
    real = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert service.strip() == '--8<-- "pyproject.toml:pytest_config"'
    assert is_subset(tomllib.loads(root_run)["tool"], real["tool"])
