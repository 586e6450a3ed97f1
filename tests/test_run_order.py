"""How a run orders and shares out its tests (guidekit/pytest_plugin.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from guidekit.paths import ROOT
from guidekit.pytest_plugin import BROWSER_TESTS, scheduling_unit


def collected(basetemp: Path, *paths: str) -> list[str]:
    """The node ids a run of `paths` would run, in its order."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n0", "--no-cov", "-p", "no:cacheprovider"]
    completed = subprocess.run(
        [*command, f"--basetemp={basetemp}", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return [line for line in completed.stdout.splitlines() if "::" in line]


def test_browser_tests_run_last_and_their_per_page_units_after_the_long_ones(tmp_path: Path) -> None:
    order = collected(tmp_path / "run", "tests/browser", "tests/test_publishing.py")
    browser = [nodeid.startswith(BROWSER_TESTS) for nodeid in order]
    assert browser == sorted(browser), "a test outside tests/browser/ runs after a browser test"
    per_page = [nodeid.endswith("]") for nodeid in order if nodeid.startswith(BROWSER_TESTS)]
    assert any(per_page), "the browser tests should have per-page (parametrized) tests"
    assert not all(per_page), "the browser tests should have tests that are not per page"
    assert per_page == sorted(per_page), "a parametrized browser test runs before one that is not"


@pytest.mark.parametrize(
    ("nodeid", "unit"),
    [
        (
            "tests/browser/test_pages.py::test_page_loads_cleanly[tutorial.md]",
            "tests/browser/test_pages.py::[tutorial.md]",
        ),
        (
            "tests/browser/test_pages.py::test_page_fits_a_phone_screen[tutorial.md]",
            "tests/browser/test_pages.py::[tutorial.md]",
        ),
        ("tests/test_run_cleanup.py::TestAStoppedRun::test_sigterm", "tests/test_run_cleanup.py::TestAStoppedRun"),
        (
            "tests/test_publishing.py::test_readme_build_is_strict",
            "tests/test_publishing.py::test_readme_build_is_strict",
        ),
    ],
)
def test_a_pages_checks_share_one_worker_and_a_class_is_one_unit(nodeid: str, unit: str) -> None:
    assert scheduling_unit(nodeid) == unit
