"""The guard's checks that need the whole run: included lines ran, and enough fences verified.

They run after the last test *and* after session fixtures are torn down (code after a
fixture's `yield` is shown on pages too), when pytest-cov has stopped, combined and saved
the run's coverage data. The guard's conftest calls them from a `pytest_runtestloop`
wrapper placed outside pytest-cov's own, and fails the run when they find a problem.
"""

import os
from pathlib import Path

from coverage.data import CoverageData

from guidekit.guard import check_coverage
from guidekit.guard.ledger import INCLUDED, LEDGER

MINIMUM_VERIFIED_SHARE = 0.97


def run_data(root: Path, started: float) -> CoverageData | None:
    """The coverage data this run saved, or None when it saved none (`--no-cov`)."""
    path = root / os.environ.get("COVERAGE_FILE", ".coverage")
    if not path.is_file() or path.stat().st_mtime < started:
        return None
    data = CoverageData(basename=str(path))
    data.read()
    return data


def check_included_lines_ran(data: CoverageData | None, snippets: Path, whole_run: bool) -> list[str]:
    """Resolve every pending Python include: verified when all its statements ran."""
    if not INCLUDED:
        return []
    if data is None or not whole_run:
        why = "coverage is off" if data is None else "the service tests were not part of this run"
        LEDGER.notes.append(f"included Python not checked: {why}; the full `uv run pytest` checks it")
        return []
    executed = check_coverage.executed_lines([data])
    problems = []
    for where, regions in INCLUDED.items():
        misses = [miss for region in regions if (miss := check_coverage.missed(region, executed))]
        if misses:
            detail = "; ".join(miss.describe(snippets) for miss in misses)
            LEDGER.record(where, "python-include", "failed", f"never ran: {detail}")
            problems.append(f"{where}: included lines that no test runs: {detail}; test them or stop showing them")
        else:
            LEDGER.record(where, "python-include", "verified", "every included statement ran in this run")
    return problems


def check_share(all_fences_checked: bool) -> list[str]:
    """At least 97% of all fences verified, so opt-outs stay rare."""
    share = LEDGER.verified_share()
    pending = any(entry.status == "pending" for entry in LEDGER.entries.values())
    if pending or not all_fences_checked or not LEDGER.entries or share >= MINIMUM_VERIFIED_SHARE:
        return []  # a partial run proves nothing about the share
    return [
        f"only {share:.1%} of fences are verified (target {MINIMUM_VERIFIED_SHARE:.0%}); "
        "replace opt-outs with includes or blocks the guard can verify"
    ]
