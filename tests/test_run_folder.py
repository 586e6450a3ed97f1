"""A run keeps its temporary files in a folder of its own, which no other pytest run touches.

pytest takes group and other access off `<temp>/pytest-of-<user>` each time a run starts there. The
embedded PostgreSQL, started as root, runs as a user of its own that must reach its data folder; under
`pytest-of-<user>` it lost that at the next run started anywhere, and stopped at its next checkpoint.
"""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import URL

from guidekit.guard.check_sql import psql_conninfo
from guidekit.guard.tools import require_tool
from guidekit.pytest_plugin import KEPT_RUN_FOLDERS, RUN_FOLDER_PREFIX, run_folder

OTHER_TEST = "def test_uses_tmp_path(tmp_path):\n    assert tmp_path.is_dir()\n"


def test_another_pytest_run_leaves_this_runs_postgresql_able_to_checkpoint(database_url: URL, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "test_other.py").write_text(OTHER_TEST, encoding="utf-8")
    started = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(other)],
        cwd=other,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert started.returncode == 0, started.stdout + started.stderr

    # CHECKPOINT writes pg_control by its full path: the first thing that fails once the server's
    # user cannot reach its data folder.
    checkpoint = subprocess.run(
        [require_tool("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-c", "CHECKPOINT", psql_conninfo(database_url)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert checkpoint.returncode == 0, checkpoint.stderr


def test_a_run_folder_is_its_own_and_only_the_newest_ended_ones_stay(tmp_path: Path) -> None:
    ended = [tmp_path / f"{RUN_FOLDER_PREFIX}{pid}" for pid in range(999_990_001, 999_990_006)]  # no such pids
    for age, folder in enumerate(ended):
        folder.mkdir()
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))  # the first is the newest
    running = tmp_path / f"{RUN_FOLDER_PREFIX}{os.getpid()}"
    running.mkdir()
    os.utime(running, (1, 1))  # older than all: kept because its process runs
    other = tmp_path / "not-a-run"
    other.mkdir()

    assert run_folder(tmp_path, 12345) == tmp_path / f"{RUN_FOLDER_PREFIX}12345"

    left = sorted(path.name for path in tmp_path.iterdir())
    expected = sorted([*(folder.name for folder in ended[:KEPT_RUN_FOLDERS]), running.name, other.name])
    assert left == expected
