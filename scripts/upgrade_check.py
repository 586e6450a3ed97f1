"""Upgrade both lock files to the newest releases in a copy of the tree, run the whole suite there, and say
what moved and what broke.

    uv run python scripts/upgrade_check.py [--apply] [--keep]

In a clone of HEAD (the working tree is never touched): `uv lock --upgrade` for `uv.lock`, then
`poetry update --lock` for `snippets/poetry.lock` with the root's Poetry, then `CI=true uv run pytest`
(warnings are errors there already). It prints the packages that moved (old -> new) and then either
"passed" or the failing tests (node id and first error line) with the moved packages each failure
names. `--apply` copies the two new lock files into the tree, only when the run passed. The result is
written, whole, to `.record/upgrade.json`, which the Stack page reads.

Exit status: 0 passed, 1 tests failed, 2 cannot run (uv, git or the package index missing; nothing is
written then).
"""

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from guidekit.lock_check import (
    CANNOT_RUN,
    INDEX_HINT,
    PASSED,
    CannotRunError,
    Failure,
    Move,
    clone_workspace,
    failures_from,
    locked_versions,
    moves,
    outcome,
    require_tools,
    run,
    run_suite,
    suite_env,
    summarize_to_ci,
    suspects,
    write_record,
)
from guidekit.paths import ROOT, TOOLS, UPGRADE_RECORD

LOCK_FILES = ("uv.lock", "snippets/poetry.lock")


def report(moved: Sequence[Move], failures: Sequence[Failure], returncode: int) -> str:
    """What a reader of the run's log needs: what moved, and passed or what failed."""
    lines = ["Moved:"] + [f"  {move}" for move in moved] if moved else ["Nothing moved: the locks are the newest."]
    if returncode == 0:
        return "\n".join([*lines, "PASSED: the whole suite passed with the new locks."])
    named = suspects(moved, failures)
    lines.append(f"FAILED: {len(failures)} failing test(s) with the new locks.")
    lines.append("Moved packages the failures name: " + (", ".join(named) if named else "none (read the failures)"))
    lines += [f"  {failure.nodeid}: {failure.first_line}" for failure in failures]
    return "\n".join(lines)


def lock_versions_in(tree: Path) -> dict[str, str]:
    """Both locks' versions, `snippets/poetry.lock`'s as `poetry:NAME` (they may differ by compatible releases)."""
    guide = locked_versions((tree / "uv.lock").read_text(encoding="utf-8"), "uv.lock")
    image = locked_versions((tree / "snippets" / "poetry.lock").read_text(encoding="utf-8"), "snippets/poetry.lock")
    return guide | {f"poetry:{name}": version for name, version in image.items()}


def upgrade_locks(tree: Path) -> None:
    """Both locks to the newest releases their constraints allow."""
    run(["uv", "lock", "--upgrade"], tree, INDEX_HINT)
    run(["uv", "sync", "--locked"], tree, INDEX_HINT)
    # Poetry 2's `poetry lock` keeps locked versions; `update --lock` takes the newest, installing nothing.
    run(["uv", "run", "--locked", "poetry", "-C", "snippets", "update", "--lock"], tree, INDEX_HINT)


def pytest_command(basetemp: Path) -> list[str]:
    """The whole suite, with the short summary of failures and errors that `failures_from` reads."""
    return ["uv", "run", "--locked", "pytest", "-p", "no:cacheprovider", "-rfE", f"--basetemp={basetemp}"]


def bring_tools(tree: Path) -> None:
    """Copy the tools the tests fetch on first use (the Nu Html Checker), when this checkout has them, into
    the clone: fetched inside the suite, they would spend a test's own time limit."""
    if TOOLS.is_dir():
        shutil.copytree(TOOLS, tree / TOOLS.relative_to(ROOT), symlinks=True)


def check(apply: bool, keep: bool) -> int:
    """The whole check; returns the exit status."""
    started = time.monotonic()
    require_tools()
    with clone_workspace("upgrade-check-", keep) as (workspace, commit):
        tree = workspace / "tree"
        bring_tools(tree)
        before = lock_versions_in(tree)
        print("Upgrading uv.lock and snippets/poetry.lock ...", flush=True)
        upgrade_locks(tree)
        moved = moves(before, lock_versions_in(tree))
        print("\n".join(str(move) for move in moved) or "Nothing moved.", flush=True)
        returncode, output = run_suite(tree, pytest_command(workspace / "basetemp"), suite_env())
        failures = failures_from(output)
        status = outcome(returncode, failures, output)
        text = report(moved, failures, returncode)
        print("\n" + text, flush=True)
        summarize_to_ci(text)
        newest = lock_versions_in(tree)
        write_record(
            UPGRADE_RECORD,
            {
                "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": commit,
                "result": "passed" if status == PASSED else "failed",
                "moved": [[move.name, move.old, move.new] for move in moved],
                "failures": [[failure.nodeid, failure.first_line] for failure in failures],
                "suspects": suspects(moved, failures),
                "versions": {name: version for name, version in newest.items() if ":" not in name},
                "seconds": round(time.monotonic() - started),
            },
        )
        if status == PASSED and apply:
            for lock in LOCK_FILES:
                shutil.copyfile(tree / lock, ROOT / f"{lock}.upgraded")
            for lock in LOCK_FILES:  # both copied first, then both renamed: no half-applied pair
                (ROOT / f"{lock}.upgraded").replace(ROOT / lock)
            print("Applied: uv.lock and snippets/poetry.lock now hold the new versions.", flush=True)
        return status


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the check, and turn "cannot run" into a message and exit status 2."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apply", action="store_true", help="copy the new lock files into the tree if the run passed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    arguments = parser.parse_args(argv)
    try:
        return check(apply=arguments.apply, keep=arguments.keep)
    except CannotRunError as error:
        print(f"Cannot run the upgrade check: {error}", file=sys.stderr)
        return CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main())
