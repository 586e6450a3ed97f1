"""The reference service is production code: linted, formatted and strictly typed, on every run."""

import subprocess
import sys
from pathlib import Path

import pytest

from guidekit.paths import ROOT


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "snippets", "tests", "scripts", "hooks", "guidekit", "conftest.py"],
        ["ruff", "format", "--check", "snippets", "tests", "scripts", "hooks", "guidekit", "conftest.py"],
        # Two runs: the service's tests and the site's tests are both a package named `tests`.
        ["mypy", "snippets/app", "snippets/tests"],
        ["mypy", "tests", "hooks", "scripts", "guidekit", "conftest.py"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict-service", "mypy-strict-site"],
)
def test_tool_passes(command: list[str]) -> None:
    executable = str(Path(sys.executable).parent / command[0])
    completed = subprocess.run([executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, (
        f"`{' '.join(command)}` failed; run it and fix:\n{completed.stdout}{completed.stderr}"
    )
