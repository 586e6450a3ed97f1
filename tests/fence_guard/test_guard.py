"""The fence guard over the real site: every fence on every page in `docs/` is verified.

See `guidekit/guard/__init__.py` for the kinds, the checkers and the markers. Two checks need
the whole run and happen after the last test (`final_checks`, called from the conftest).
"""

import pytest

from guidekit.guard.checker import Context, FenceError
from guidekit.guard.guard import check, classify
from guidekit.guard.ledger import INCLUDED, LEDGER
from guidekit.markdown.fences import Fence, all_fences
from guidekit.paths import DOCS, ROOT, SNIPPETS

FENCES = all_fences(DOCS)


def guard_one(fence: Fence, request: pytest.FixtureRequest) -> None:
    """Check one fence and record the outcome; fails with the checker's message."""
    context = Context(root=ROOT, docs=DOCS, snippets=SNIPPETS, fixture=request.getfixturevalue)
    try:
        verdict = check(fence, context)
    except FenceError as error:
        LEDGER.record(fence.where, classify(fence), "failed", str(error))
        pytest.fail(str(error), pytrace=False)
    LEDGER.record(fence.where, verdict.kind, verdict.status, verdict.detail)
    if verdict.regions and verdict.status == "pending":
        INCLUDED[fence.where] = verdict.regions


@pytest.mark.parametrize("fence", FENCES, ids=[f"{fence.where}:{fence.language or 'none'}" for fence in FENCES])
def test_fence(fence: Fence, request: pytest.FixtureRequest) -> None:
    """One fence of the site, verified by the checker of its kind."""
    guard_one(fence, request)
