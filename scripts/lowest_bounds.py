"""Prove the service's declared lower bounds: resolve every direct dependency at its lowest allowed release,
then run the service's tests and its type check with them.

    uv run python scripts/lowest_bounds.py [--keep]

In a clone of HEAD (the working tree is never touched), inside its copy of `snippets/`: `uv lock
--resolution lowest-direct` (each dependency of `snippets/pyproject.toml`, runtime and dev group, at the
lowest release its constraint and the others allow; their own dependencies at the newest), then
`CI=true uv run pytest` and `uv run mypy app tests` there, with the service's own configuration. A floor
the resolver could not take (another bound excludes it) is reported with the release it took: raise the
floor to it. The result is written, whole, to `.record/lowest.json`, which the Stack page reads.

Exit status: 0 passed, 1 a floor unreachable or a test or type error, 2 cannot run (nothing is written).
"""

import argparse
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from guidekit.lock_check import (
    CANNOT_RUN,
    FAILED,
    INDEX_HINT,
    PASSED,
    CannotRunError,
    Failure,
    clone_workspace,
    failures_from,
    locked_versions,
    outcome,
    require_tools,
    run,
    run_suite,
    suite_env,
    summarize_to_ci,
    write_record,
)
from guidekit.paths import LOWEST_RECORD


def floors(pyproject_text: str) -> dict[str, str]:
    """`{package: lowest allowed version}` for every dependency the service declares, dev group included."""
    data = tomllib.loads(pyproject_text)
    declared = list(data["project"]["dependencies"]) + list(data.get("dependency-groups", {}).get("dev", []))
    lowest = {}
    for line in declared:
        requirement = Requirement(line)
        bounds = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
        if not bounds:
            raise ValueError(f"{requirement.name} has no lower bound (`>=`) in snippets/pyproject.toml")
        lowest[requirement.name] = str(max(Version(bound) for bound in bounds))
    return lowest


def unreached(declared: dict[str, str], locked: dict[str, str]) -> list[tuple[str, str, str]]:
    """`(package, floor, resolved)` where the lowest resolution had to take a release above the floor."""
    return [
        (name, floor, locked[name])
        for name, floor in declared.items()
        if name in locked and Version(locked[name]) > Version(floor)
    ]


def mypy_failures(output: str) -> list[Failure]:
    """mypy's `path:line: error: message` lines, as failures."""
    failures = []
    for line in output.splitlines():
        location, separator, message = line.partition(": error: ")
        if separator:
            failures.append(Failure(f"mypy {location}", message))
    return failures


def report(versions: dict[str, str], missed: Sequence[tuple[str, str, str]], failures: Sequence[Failure]) -> str:
    """The lowest versions tested, the floors that could not be reached, and what failed."""
    lines = ["Lowest versions resolved:"] + [f"  {name} {version}" for name, version in sorted(versions.items())]
    lines += [
        f"UNREACHABLE FLOOR: {name}>={floor} cannot be resolved with the other bounds; the lowest is {resolved}: "
        f"raise the floor to {resolved}"
        for name, floor, resolved in missed
    ]
    lines += [f"  {failure.nodeid}: {failure.first_line}" for failure in failures]
    verdict = "PASSED" if not missed and not failures else "FAILED"
    return "\n".join([*lines, f"{verdict}: the service's tests and type check at its lowest bounds."])


def tests_env() -> dict[str, str]:
    """The suite's environment, with the root's Poetry last on PATH: some service tests run `poetry`, which
    the service's own dev group does not install (the root's does, as the Stack page's Upgrading says)."""
    env = suite_env()
    poetry = shutil.which("poetry")
    if poetry is not None:
        env["PATH"] = f"{env.get('PATH', '')}{os.pathsep}{Path(poetry).parent}"
    return env


TIME_LIMIT_PLUGIN = "guidekit.time_limit_plugin"


def time_limit_plugin(tree: Path, destination: Path) -> Path:
    """A folder holding only `guidekit.time_limit_plugin` and the module it needs, copied from `tree`: on the
    service's PYTHONPATH it gives every test a time limit without putting the site's packages there."""
    package = destination / "guidekit"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for module in ("run_limits.py", "time_limit_plugin.py"):
        shutil.copyfile(tree / "guidekit" / module, package / module)
    return destination


def check(keep: bool) -> int:
    """The whole check; returns the exit status."""
    started = time.monotonic()
    require_tools()
    with clone_workspace("lowest-bounds-", keep) as (workspace, commit):
        tree = workspace / "tree"
        service = tree / "snippets"
        declared = floors((service / "pyproject.toml").read_text(encoding="utf-8"))
        print("Resolving the service's lowest bounds ...", flush=True)
        run(["uv", "lock", "--resolution", "lowest-direct"], service, INDEX_HINT)
        # --frozen: the lowest lock as written; `--locked` would see a lock of another resolution mode as stale.
        run(["uv", "sync", "--frozen"], service, INDEX_HINT)
        locked = locked_versions((service / "uv.lock").read_text(encoding="utf-8"), "snippets/uv.lock (lowest)")
        versions = {name: locked[name] for name in declared if name in locked}
        missed = unreached(declared, locked)
        # A test that hangs ends the run with a line naming it (failures_from reads it), not a run without end.
        command = ["uv", "run", "--frozen", "pytest", "-p", "no:cacheprovider", "-p", TIME_LIMIT_PLUGIN, "-rfE"]
        env = tests_env()
        env["PYTHONPATH"] = str(time_limit_plugin(tree, workspace / "plugins"))
        returncode, output = run_suite(service, [*command, f"--basetemp={workspace / 'basetemp'}"], env)
        failures = failures_from(output)
        outcome(returncode, failures, output)  # a pytest that named no failure cannot run
        typed, typing_output = run_suite(service, ["uv", "run", "--frozen", "mypy", "app", "tests"], suite_env())
        failures += mypy_failures(typing_output)
        if typed != 0 and not mypy_failures(typing_output):
            raise CannotRunError(f"mypy ended with exit {typed} and named no error:\n{typing_output[-2000:]}")
        status = PASSED if not missed and not failures else FAILED
        text = report(versions, missed, failures)
        print("\n" + text, flush=True)
        summarize_to_ci(text)
        write_record(
            LOWEST_RECORD,
            {
                "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": commit,
                "result": "passed" if status == PASSED else "failed",
                "versions": versions,
                "unreached": [list(floor) for floor in missed],
                "failures": [[failure.nodeid, failure.first_line] for failure in failures],
                "seconds": round(time.monotonic() - started),
            },
        )
        return status


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the check, and turn "cannot run" into a message and exit status 2."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    arguments = parser.parse_args(argv)
    try:
        return check(keep=arguments.keep)
    except (CannotRunError, ValueError) as error:
        print(f"Cannot run the lowest-bounds check: {error}", file=sys.stderr)
        return CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main())
