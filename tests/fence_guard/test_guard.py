"""The fence guard over the real site: every fence on every page in `docs/` is verified.

See `fence_guard/__init__.py` for the kinds, the checkers and the markers. Two checks need
the whole run and happen after the last test (`final_checks`, called from the conftest).
"""

import pytest

from guidekit.guard.errors import FenceError
from guidekit.guard.guard import Context, check
from guidekit.guard.ledger import INCLUDED, LEDGER
from guidekit.markdown.fences import Fence, all_fences
from guidekit.paths import DOCS, ROOT, SNIPPETS

FENCES = all_fences(DOCS)


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
    from guidekit.guard.guard import classify

    return classify(fence)


@pytest.mark.parametrize("fence", FENCES, ids=[f"{fence.where}:{fence.language or 'none'}" for fence in FENCES])
def test_fence(fence: Fence, request: pytest.FixtureRequest) -> None:
    """One fence of the site, verified by the checker of its kind."""
    guard_one(fence, request)
