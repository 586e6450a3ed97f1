"""The fence guard over the real site: every fence on every page in `docs/` is verified.

See `fence_guard/__init__.py` for the kinds, the checkers and the markers.
"""

from pathlib import Path

import coverage
import pytest

from fence_guard import check_coverage
from fence_guard.errors import FenceError
from fence_guard.fences import Fence, all_fences
from fence_guard.guard import Context, check
from fence_guard.ledger import INCLUDED, LEDGER

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
FENCES = all_fences(DOCS)
MINIMUM_VERIFIED_SHARE = 0.97


def guard_one(fence: Fence, request: pytest.FixtureRequest) -> None:
    """Check one fence and record the outcome; fails with the checker's message."""
    if "output" in fence.markers and fence.where in LEDGER.entries:
        return  # the block above it compared this output already
    context = Context(root=ROOT, docs=DOCS, snippets=SNIPPETS, fixture=request.getfixturevalue)
    try:
        verdict = check(fence, context)
    except FenceError as error:
        LEDGER.record(fence.where, _kind(fence), "failed", str(error))
        pytest.fail(str(error), pytrace=False)
    LEDGER.record(fence.where, verdict.kind, verdict.status, verdict.detail)  # type: ignore[arg-type]
    if verdict.regions and verdict.status == "pending":
        INCLUDED[fence.where] = verdict.regions
    if fence.output is not None and verdict.kind == "sql":
        LEDGER.record(fence.output.where, "output", "verified", f"result of {fence.where}, compared")


def _kind(fence: Fence) -> str:
    from fence_guard.guard import classify

    return classify(fence)


@pytest.mark.parametrize("fence", FENCES, ids=[f"{fence.where}:{fence.language or 'none'}" for fence in FENCES])
def test_fence(fence: Fence, request: pytest.FixtureRequest) -> None:
    """One fence of the site, verified by the checker of its kind."""
    guard_one(fence, request)


@pytest.mark.guard_last
def test_included_python_ran(request: pytest.FixtureRequest) -> None:
    """Every statement a page includes from snippets/ was executed by this test run."""
    measurement = coverage.Coverage.current()
    if measurement is None:
        pytest.skip("coverage is off (--no-cov): included lines can only be checked in the full `uv run pytest`")
    if not any(item.nodeid.startswith("snippets/tests/") for item in request.session.items):
        pytest.skip("the service tests are not part of this run, so their coverage cannot prove included lines ran")
    executed = check_coverage.executed_lines([measurement.get_data(), *check_coverage.saved_data(ROOT)])
    problems: list[str] = []
    for where, regions in INCLUDED.items():
        misses = [miss for region in regions if (miss := check_coverage.missed(region, executed))]
        if misses:
            detail = "; ".join(miss.describe(SNIPPETS) for miss in misses)
            LEDGER.record(where, "python-include", "failed", f"never ran: {detail}")
            problems.append(f"{where}: included lines no test runs: {detail}")
        else:
            LEDGER.record(where, "python-include", "verified", "every included statement ran in this test run")
    assert not problems, "write a test that runs them, or stop showing them:\n" + "\n".join(problems)


@pytest.mark.guard_last
def test_enough_fences_verified() -> None:
    """Opt-outs stay rare: at least 97% of the fences found are verified."""
    if not FENCES or len(LEDGER.entries) < len(FENCES):
        pytest.skip("only part of the site's fences were checked in this run")
    share = LEDGER.verified_share()
    assert share >= MINIMUM_VERIFIED_SHARE, (
        f"only {share:.1%} of fences are verified (target {MINIMUM_VERIFIED_SHARE:.0%}); "
        "replace opt-outs with includes or verifiable blocks"
    )
