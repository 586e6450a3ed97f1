"""Shared by `scripts/upgrade_check.py` and `scripts/lowest_bounds.py`: run in a clone of HEAD, read the lock
files and pytest's summary, and write a record whole.

Both scripts end with the same exit statuses: 0 passed, 1 failed (a test, a type check or a bound),
2 cannot run (a tool or the package index missing: the message names what to install or set, and no
record is written).
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from guidekit.paths import ROOT

PASSED, FAILED, CANNOT_RUN = 0, 1, 2
TAIL_LINES = 15  # of a failed command's output, in a "cannot run" message


class CannotRunError(Exception):
    """The check could not run; the message says what to install or set."""


@dataclass(frozen=True)
class Move:
    """A locked package whose version changed (`old` None: added; `new` None: removed)."""

    name: str
    old: str | None
    new: str | None

    def __str__(self) -> str:
        if self.old is None:
            return f"{self.name} {self.new} (new)"
        if self.new is None:
            return f"{self.name} {self.old} (removed)"
        return f"{self.name} {self.old} -> {self.new}"


@dataclass(frozen=True)
class Failure:
    """A failing test (or the coverage floor), as pytest's short summary names it."""

    nodeid: str
    first_line: str


def locked_versions(lock_text: str, source: str) -> dict[str, str]:
    """`{package: version}` of a `uv.lock` or `poetry.lock` (both list `[[package]]` tables)."""
    try:
        packages = tomllib.loads(lock_text).get("package")
    except tomllib.TOMLDecodeError as error:
        raise CannotRunError(f"{source} is not a lock file (not TOML: {error})") from error
    if not isinstance(packages, list):
        raise CannotRunError(f"{source} is not a lock file: it has no [[package]] tables")
    return {package["name"]: package["version"] for package in packages if "version" in package}


def moves(old: dict[str, str], new: dict[str, str]) -> list[Move]:
    """The packages whose locked version differs between two locks, by name."""
    names = sorted(set(old) | set(new))
    return [Move(name, old.get(name), new.get(name)) for name in names if old.get(name) != new.get(name)]


# pytest's short test summary (`-rfE`): `FAILED path::test[id] - Error: message`, `ERROR path - ...`.
SUMMARY_LINE = re.compile(r"^(?:FAILED|ERROR) (?P<nodeid>.+?)(?: - (?P<message>.*))?$")
# pytest's report of a conftest that cannot be imported (exit 4); the error is the first `E   ` line after it.
CONFTEST_LINE = re.compile(r"^ImportError while loading conftest '(?P<path>[^']+)'")
# guidekit.run_limits' line when a test outlived its limit: it ends the test process, so no summary follows.
TIME_LIMIT_LINE = re.compile(r"^(?P<nodeid>\S+::\S+) (?P<message>ran longer than its limit of [^;]*);")
# pytest-cov's line when every test passed but `--cov-fail-under` did not.
COVERAGE_LINE = re.compile(r"^FAIL (?P<message>Required test coverage of .*)$")


def failures_from(output: str) -> list[Failure]:
    """The failing tests a pytest run's output names, with the first line of each error."""
    failures = []
    conftest = None
    for line in output.splitlines():
        if match := CONFTEST_LINE.match(line):
            conftest = match["path"]
        elif conftest is not None and line.startswith("E   "):
            failures.append(Failure(conftest, line.removeprefix("E").strip()))
            conftest = None
        elif match := TIME_LIMIT_LINE.match(line):
            failures.append(Failure(match["nodeid"], match["message"]))
        elif match := COVERAGE_LINE.match(line):
            failures.append(Failure("coverage", match["message"]))
        elif match := SUMMARY_LINE.match(line):
            failures.append(Failure(match["nodeid"], match["message"] or "(no message)"))
    return failures


def suspects(moved: Sequence[Move], failures: Sequence[Failure]) -> list[str]:
    """The moved packages a failure names by distribution or import name (`sentry-sdk`, `sentry_sdk`)."""
    text = "\n".join(f"{failure.nodeid} {failure.first_line}" for failure in failures).lower()
    named = []
    for move in moved:
        spellings = {move.name.lower(), move.name.lower().replace("-", "_"), move.name.lower().replace("-", ".")}
        if any(re.search(rf"(?<![\w.-]){re.escape(spelling)}(?![\w-])", text) for spelling in spellings):
            named.append(move.name)
    return named


def write_record(path: Path, record: dict[str, object]) -> None:
    """Write the record whole, then rename it into place: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for commands in the copy: not this tree's virtualenv, which `uv run` may have set."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    return env | extra


def run(command: Sequence[str], cwd: Path, hint: str, env: dict[str, str] | None = None) -> str:
    """Run a setup command; its failure is a "cannot run" naming the command, its last lines and `hint`."""
    try:
        completed = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, env=env or child_env()
        )
    except FileNotFoundError as error:
        raise CannotRunError(f"`{command[0]}` is not installed: {hint}") from error
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-TAIL_LINES:])
        raise CannotRunError(f"`{' '.join(command)}` failed (exit {completed.returncode}): {hint}\n{tail}")
    return completed.stdout + completed.stderr


UV_HINT = "install uv (`pip install uv`, or https://docs.astral.sh/uv/getting-started/installation/)"
INDEX_HINT = "is the package index reachable? Check the network, or set UV_DEFAULT_INDEX to a mirror"


def require_tools() -> None:
    """uv and git run, or the check cannot start."""
    run(["uv", "--version"], ROOT, UV_HINT)
    run(["git", "--version"], ROOT, "install git (`apt-get install git`)")


def clone_head(destination: Path) -> str:
    """A clone of HEAD at `destination`; returns the commit. Uncommitted changes are not in it."""
    commit = run(["git", "rev-parse", "HEAD"], ROOT, "run this inside the project's git checkout").strip()
    if run(["git", "status", "--porcelain", "--untracked-files=no"], ROOT, "").strip():
        print("Note: the tree has uncommitted changes; the check runs on HEAD without them.", flush=True)
    run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(destination)], ROOT, "git could not clone HEAD")
    return commit


@contextlib.contextmanager
def clone_workspace(prefix: str, keep: bool) -> Iterator[tuple[Path, str]]:
    """A temporary folder with a clone of HEAD in its `tree/`; yields the folder and the commit. Deleted
    afterwards, unless `keep` (then its path is printed)."""
    workspace = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield workspace, clone_head(workspace / "tree")
    finally:
        if keep:
            print(f"Kept the copy: {workspace}", flush=True)
        else:
            shutil.rmtree(workspace, ignore_errors=True)


def run_suite(tree: Path, command: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the tests, echoing their output as it comes (a CI log shows progress), and return it too."""
    lines = []
    with subprocess.Popen(
        command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return process.returncode, "".join(lines)


def suite_env() -> dict[str, str]:
    """CI=true (a missing Chromium fails, not skips); a wide terminal, so summary lines are not cut;
    unbuffered, so a CI log shows progress as it comes."""
    return child_env(CI="true", COLUMNS="1000", PYTHONUNBUFFERED="1")


def outcome(returncode: int, failures: Sequence[Failure], output: str) -> int:
    """pytest's 1 (tests failed), 2 (interrupted: collection errors) and 4 (a conftest that cannot import) are
    failures when the output names what failed; anything else cannot run."""
    if returncode == 0:
        return PASSED
    if returncode in (1, 2, 4) and failures:
        return FAILED
    tail = "\n".join(output.splitlines()[-TAIL_LINES:])
    raise CannotRunError(f"pytest ended with exit {returncode} and named no failing test:\n{tail}")


def summarize_to_ci(text: str) -> None:
    """On GitHub Actions, the report also goes to the job's summary page."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as file:
            file.write(f"```text\n{text}\n```\n")
