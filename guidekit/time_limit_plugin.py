"""The per-test time limit alone, for a pytest run in another environment: the service's tests in the
lowest-bounds check, whose virtual environment has neither guidekit nor the site's plugins.

It needs only pytest and `guidekit.run_limits` (the standard library), so the check copies the two
files beside each other and loads this one with `-p guidekit.time_limit_plugin`.
"""

from collections.abc import Generator

import pytest

from guidekit.run_limits import Watchdog, terminal_stream

WATCHDOG_KEY = pytest.StashKey[Watchdog]()


def pytest_configure(config: pytest.Config) -> None:
    """One watchdog for the run; GUIDE_TEST_TIME_LIMIT sets its limit, as in the site's runs."""
    watchdog = Watchdog(stream=terminal_stream())
    config.stash[WATCHDOG_KEY] = watchdog
    config.add_cleanup(watchdog.close)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Each test, with its setup and teardown, runs under the time limit."""
    watchdog = item.config.stash[WATCHDOG_KEY]
    watchdog.arm(item.nodeid)
    try:
        return (yield)
    finally:
        watchdog.disarm()
