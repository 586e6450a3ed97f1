"""Browser tests run with coverage paused: they run none of the service's code in this process
(guidekit/pytest_plugin.py), and tracing Playwright and the link crawl made them three times slower."""

import sys


def test_a_browser_test_runs_without_a_trace_function() -> None:
    assert sys.gettrace() is None, f"a browser test runs traced by {sys.gettrace()!r}"
