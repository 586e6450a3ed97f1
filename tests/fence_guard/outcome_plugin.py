"""A pytest plugin for the runs of `test_named_proofs.py`: the test `FORCE_TEST` names (a node id)
is skipped (`FORCE_OUTCOME=skipped`) or fails (`FORCE_OUTCOME=failed`) instead of running its body."""

import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Skip or fail the chosen test."""
    if item.nodeid != os.environ.get("FORCE_TEST"):
        return
    if os.environ.get("FORCE_OUTCOME") == "skipped":
        pytest.skip("skipped by tests/fence_guard/outcome_plugin.py")
    pytest.fail("failed by tests/fence_guard/outcome_plugin.py")
