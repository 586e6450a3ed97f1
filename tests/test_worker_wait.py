"""The controller of a pytest-xdist run gives up on a worker that hangs outside any test."""

import os
import subprocess
import sys
import time
from pathlib import Path

from guidekit.paths import ROOT
from guidekit.pytest_plugin import WorkerReportWait
from guidekit.run_limits import LIMIT_VARIABLE

LIMIT_SECONDS = 4


def test_a_worker_hung_before_its_first_test_ends_the_run_naming_the_wait(tmp_path: Path) -> None:
    env = os.environ | {"HANG_COLLECTING": "1", LIMIT_VARIABLE: str(LIMIT_SECONDS)}
    command = [sys.executable, "-m", "pytest", "-p", "tests.run_limits.hang_plugin", "-n", "1", "--no-cov"]
    command += ["-p", "no:cacheprovider", "-q", f"--basetemp={tmp_path / 'run'}", "tests/test_publishing.py"]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    took = time.monotonic() - started
    output = completed.stdout + completed.stderr

    assert completed.returncode != 0, output
    limit = LIMIT_SECONDS * 1.5
    assert f"{WorkerReportWait.WAITING} ran longer than its limit of {limit:g} s" in output, output
    assert "Thread" in output, f"no stacks printed:\n{output}"
    assert took < limit + 20, f"the run took {took:.0f} s to give up"
