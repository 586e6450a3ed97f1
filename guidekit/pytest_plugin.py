"""The run-wide pytest hooks: a time limit on every test, a janitor behind every run, and how
pytest-xdist shares the tests out.

Loaded by the root `conftest.py`, so every run has them: the whole suite, one page
(`--page`), one file, and each pytest-xdist worker.
"""

from collections.abc import Generator

import pytest
from xdist.scheduler import LoadScopeScheduling

from guidekit import janitor
from guidekit.run_limits import Watchdog, terminal_stream

_watchdog_key = pytest.StashKey[Watchdog]()
BROWSER_TESTS = "tests/browser/"


def pytest_configure(config: pytest.Config) -> None:
    """Start the janitor (once per run, in the controller) and the watchdog (in every process)."""
    if not hasattr(config, "workerinput"):  # the controller of an xdist run, or a run without xdist
        janitor.start()  # its pipe closes when this process ends, however it ends
    else:
        janitor.become_subreaper()  # a worker's orphans stay below the run, where the janitor sees them
    watchdog = Watchdog(stream=terminal_stream())
    config.stash[_watchdog_key] = watchdog
    config.add_cleanup(watchdog.close)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Each test, with its setup and teardown, runs under the time limit."""
    watchdog = item.config.stash[_watchdog_key]
    watchdog.arm(item.nodeid)
    try:
        return (yield)
    finally:
        watchdog.disarm()


class SameParameterScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """pytest-xdist's load distribution, except that a module's tests with the same parameter id
    run in one worker: the four checks of one page (`test_pages.py::...[tutorial.md]`) share a
    single visit of that page. Every other test is a unit of its own.

    (pytest-xdist's `--dist loadgroup` would do this with `xdist_group` marks, but with pytest 9
    its renaming of node ids has no effect, so the marks group nothing.)
    """

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        # Collection order, not largest unit first: the browser tests must come last (see below).
        config.option.loadscopereorder = False
        super().__init__(config, log)

    def _split_scope(self, nodeid: str) -> str:
        module, _, test = nodeid.partition("::")
        if test.endswith("]") and "[" in test:
            return f"{module}::[{test[test.index('[') + 1 : -1]}]"
        return nodeid


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last, in each process.

    Playwright's sync API keeps its event loop marked as running in the thread that started it,
    so once a process has started the browser, no asyncio test can run there any more. Run
    after every other test, the browser is started only when no asyncio test is left to run.
    """
    items.sort(key=lambda item: item.nodeid.startswith(BROWSER_TESTS))


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: absent with `-p no:xdist`
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> SameParameterScheduling:
    """Distribute the tests with `SameParameterScheduling`."""
    return SameParameterScheduling(config, log)
