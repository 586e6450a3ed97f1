"""A pytest plugin for the held runs of `test_run_cleanup.py`: one chosen test hangs forever.

`HANG_TEST` names the test (a node id) and `HANG_FIXTURES` the fixtures it starts first
(comma-separated, e.g. `browser`), on top of the servers the tests before it started. Then the
plugin writes `HANG_READY` (a file path) and sleeps until the run is stopped.
"""

import os
import time
from pathlib import Path

import pytest


def pytest_runtest_call(item: pytest.Item) -> None:
    """Hang in the chosen test, after starting its fixtures and saying so."""
    if item.nodeid != os.environ.get("HANG_TEST"):
        return
    request: pytest.FixtureRequest = item._request  # type: ignore[attr-defined]
    for name in filter(None, os.environ.get("HANG_FIXTURES", "").split(",")):
        request.getfixturevalue(name)
    Path(os.environ["HANG_READY"]).write_text(str(os.getpid()))
    while True:
        time.sleep(0.1)


def pytest_collection_finish(session: pytest.Session) -> None:
    """With `HANG_COLLECTING` set, a pytest-xdist worker hangs once it has collected, before any
    test runs: no test's own limit covers it."""
    if os.environ.get("HANG_COLLECTING") and hasattr(session.config, "workerinput"):
        while True:
            time.sleep(0.1)
