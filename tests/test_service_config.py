"""The service's tool settings (`snippets/pyproject.toml`) and the root's, for the whole-site run, agree.

The service carries its own pytest, coverage, ruff and mypy settings, so a copy of `snippets/`
runs alone. The root run has settings of its own (both test trees, xdist, the coverage floor);
where the two must say the same, these tests hold them together. Ruff needs no test: the root
config extends the service's.
"""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from guidekit.paths import ROOT

ROOT_TOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
SERVICE = tomllib.loads((ROOT / "snippets" / "pyproject.toml").read_text())
SERVICE_TOOLS = SERVICE["tool"]

# How tests run: the same in both, or a test that passes in one run fails in the other.
SHARED_PYTEST_KEYS = [
    "asyncio_mode",
    "asyncio_default_fixture_loop_scope",
    "asyncio_default_test_loop_scope",
    "filterwarnings",
]
# Set by both, to different values on purpose: each run has its own test folders and options, and its
# own folder on the path (the service's, for its servers plugin `tests.servers`; the root, for the site's
# tests to import the hooks and scripts they test; the root run finds `snippets/` through the editable install).
DIFFERING_PYTEST_KEYS = {"testpaths", "addopts", "pythonpath"}
ROOT_ONLY_PYTEST_KEYS: set[str] = set()


@pytest.mark.parametrize("key", SHARED_PYTEST_KEYS)
def test_the_service_tests_run_the_same_in_both_runs(key: str) -> None:
    service, root = SERVICE_TOOLS["pytest"]["ini_options"], ROOT_TOOLS["pytest"]["ini_options"]

    assert key in service, f"[tool.pytest.ini_options] {key} is unset in the service"
    assert key in root, f"[tool.pytest.ini_options] {key} is unset in the root"
    assert service[key] == root[key], f"[tool.pytest.ini_options] {key}"


def test_every_other_pytest_setting_is_known_to_differ() -> None:
    service, root = SERVICE_TOOLS["pytest"]["ini_options"], ROOT_TOOLS["pytest"]["ini_options"]

    assert set(service) - set(root) == set(), "service-only settings"
    assert set(root) - set(service) == ROOT_ONLY_PYTEST_KEYS, "root-only settings"
    assert set(service) & set(root) == set(SHARED_PYTEST_KEYS) | DIFFERING_PYTEST_KEYS


def test_the_root_run_passes_every_option_the_service_run_does() -> None:
    service, root = SERVICE_TOOLS["pytest"]["ini_options"], ROOT_TOOLS["pytest"]["ini_options"]

    assert "--strict-markers" in service["addopts"]
    assert set(service["addopts"]) <= set(root["addopts"])


def test_coverage_is_measured_the_same_way() -> None:
    for key in ("branch", "concurrency"):
        assert SERVICE_TOOLS["coverage"]["run"][key] == ROOT_TOOLS["coverage"]["run"][key], key


def test_both_runs_hold_app_to_the_same_coverage_floor() -> None:
    floor = SERVICE_TOOLS["coverage"]["report"]["fail_under"]

    assert f"--cov-fail-under={floor}" in SERVICE_TOOLS["pytest"]["ini_options"]["addopts"]
    assert f"--cov-fail-under={floor}" in ROOT_TOOLS["pytest"]["ini_options"]["addopts"]


def test_mypy_checks_the_service_as_strictly_in_both() -> None:
    for key in ("strict", "python_version", "plugins", "explicit_package_bases"):
        assert SERVICE_TOOLS["mypy"][key] == ROOT_TOOLS["mypy"][key], key
    untyped = {module for override in ROOT_TOOLS["mypy"]["overrides"] for module in override["module"]}
    [service_untyped] = SERVICE_TOOLS["mypy"]["overrides"]
    assert set(service_untyped["module"]) <= untyped
    [root_untyped] = [o for o in ROOT_TOOLS["mypy"]["overrides"] if set(service_untyped["module"]) <= set(o["module"])]
    assert service_untyped["ignore_missing_imports"] == root_untyped["ignore_missing_imports"]


def test_the_root_lints_with_the_service_rules() -> None:
    assert ROOT_TOOLS["ruff"]["extend"] == "snippets/pyproject.toml"
    assert "select" not in ROOT_TOOLS["ruff"].get("lint", {})  # no second rule list to drift


@pytest.mark.parametrize("line", SERVICE["dependency-groups"]["dev"])
def test_the_site_runs_the_service_tests_with_tools_the_service_allows(line: str) -> None:
    requirement = Requirement(line)

    assert metadata.version(requirement.name) in requirement.specifier, line


def locked_versions(lock: Path) -> dict[str, Version]:
    """Each package's version in a lock file; `poetry.lock` and `uv.lock` both list `[[package]]` tables."""
    packages = tomllib.loads(lock.read_text())["package"]
    return {canonicalize_name(p["name"]): Version(p["version"]) for p in packages if "version" in p}


def breaking_part(version: Version) -> tuple[int, ...]:
    """The part of a version whose change may break: the major from 1.0, the minor for 0.x, all of 0.0.x."""
    return version.release[: 1 if version.major else 2 if version.minor else 3]


def test_the_image_lock_and_the_guide_lock_differ_only_by_compatible_releases() -> None:
    """The image installs `snippets/poetry.lock`; the guide's run tests `uv.lock`. They may drift by patch
    (or, from 1.0, minor) releases; a new major, a new minor of a 0.x package, or any new 0.0.x release
    must be tested first."""
    image, tested = locked_versions(ROOT / "snippets" / "poetry.lock"), locked_versions(ROOT / "uv.lock")
    breaking = {
        name: f"{image[name]} in poetry.lock, {tested[name]} in uv.lock"
        for name in image.keys() & tested.keys()
        if breaking_part(image[name]) != breaking_part(tested[name])
    }

    assert breaking == {}


@pytest.mark.parametrize(
    ("image", "tested", "compatible"),
    [
        ("2.1.0", "2.3.4", True),
        ("3.0", "2.9", False),
        ("0.4.1", "0.4.9", True),
        ("0.4.1", "0.5.0", False),
        ("0.0.24", "0.0.50", False),
    ],
)
def test_every_0_0_x_release_counts_as_breaking_between_the_locks(image: str, tested: str, compatible: bool) -> None:
    assert (breaking_part(Version(image)) == breaking_part(Version(tested))) is compatible


# A constraint the Stack page writes in backticks: `name>=x,<y`, or `>=x,<y` for "a 0.x package".
_QUOTED_CONSTRAINT = re.compile(r"`([a-z][\w.\[\]-]*)?(>=[^`\s]+)`")


def test_the_constraints_the_stack_page_quotes_are_the_services() -> None:
    """The Constraints section's examples are constraints `snippets/pyproject.toml` declares, word for word."""
    page = (ROOT / "docs" / "stack.md").read_text(encoding="utf-8")
    section = page.split("\n## Constraints\n", 1)[1].split("\n## ", 1)[0]
    declared = [*SERVICE["project"]["dependencies"], *SERVICE["dependency-groups"]["dev"]]
    specifiers = {str(Requirement(line).specifier): line for line in declared}
    quoted = _QUOTED_CONSTRAINT.findall(section)
    assert quoted, "the Constraints section quotes no constraint"
    for name, specifier in quoted:
        if name:
            assert f"{name}{specifier}" in declared, (
                f"stack.md quotes `{name}{specifier}`, which the service does not declare"
            )
        else:
            wanted = str(Requirement(f"x{specifier}").specifier)
            assert wanted in specifiers, f"stack.md quotes `{specifier}`, which no dependency of the service has"
