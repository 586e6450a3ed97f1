"""The run-wide pytest hooks: a time limit on every test, a janitor behind every run, and how
pytest-xdist shares the tests out.

Loaded with `-p guidekit.pytest_plugin` in the root `pyproject.toml`'s addopts, so every run has
them: the whole suite, one page (`--page`), one file, and each pytest-xdist worker.
"""

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import coverage
import pytest
from xdist.scheduler import LoadScopeScheduling

from guidekit import janitor, page_mode
from guidekit.run_limits import Watchdog, terminal_stream

# The per-test limit is the time-limit plugin's hook (one copy; that plugin alone also serves the
# lowest-bounds check's run, which has none of this module's other hooks).
from guidekit.time_limit_plugin import WATCHDOG_KEY, pytest_runtest_protocol  # noqa: F401

_page_key = pytest.StashKey[page_mode.PageSelection]()
BROWSER_TESTS = "tests/browser/"
RUN_FOLDER_PREFIX = "guidekit-run-"
"""A run's temporary folder is `<temp dir>/guidekit-run-<pid>`, not pytest's `pytest-of-<user>/pytest-N`."""
KEPT_RUN_FOLDERS = 3
"""How many folders of ended runs stay for a look after the run, as pytest keeps three."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--page`: verify one page (see guidekit/page_mode.py)."""
    parser.addoption(
        "--page",
        metavar="PAGE",
        help="verify one page only: its fences, the service tests behind its includes, its browser check "
        "and its links (e.g. docs/database/soft-delete.md)",
    )


def run_folder(temp: Path, pid: int) -> Path:
    """This run's temporary folder; the folders of ended runs beyond the newest few are deleted.

    Not under pytest's `pytest-of-<user>`: every pytest run that starts, anywhere on the machine, takes
    group and other access off that folder, and an embedded PostgreSQL started as root runs as its own
    user, which then cannot reach its data (it stops at its next checkpoint). A folder of its own is
    touched by this run only.
    """
    ended = [
        folder
        for folder in temp.glob(f"{RUN_FOLDER_PREFIX}*")
        if folder.is_dir() and not _alive(folder.name.removeprefix(RUN_FOLDER_PREFIX))
    ]
    ended.sort(key=_modified, reverse=True)
    for folder in ended[KEPT_RUN_FOLDERS:]:
        shutil.rmtree(folder, ignore_errors=True)
    return temp / f"{RUN_FOLDER_PREFIX}{pid}"


def _modified(folder: Path) -> float:
    """When a folder last changed; 0 for one another starting run has just deleted."""
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: str) -> bool:
    """Whether the process of a run folder's name still runs (a reused pid keeps a folder a while longer)."""
    if not pid.isdigit():
        return True  # not a run's folder: leave it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """A temporary folder of the run's own (unless `--basetemp` names one); with `--page`: no coverage
    floor, only that page's tests."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = str(run_folder(Path(tempfile.gettempdir()), os.getpid()))
    page = config.getoption("page")
    if page:
        config.stash[_page_key] = page_mode.select(page)
        # pytest-cov read its options, and started measuring, before this hook: `--no-cov` is what
        # it checks at session start (and what pytest-xdist hands the workers), and the
        # measurement it started here is stopped, so this process runs untraced too.
        coverage_plugin = config.pluginmanager.get_plugin("_cov")
        for options in (config.option, getattr(coverage_plugin, "options", None)):
            if options is not None:
                options.no_cov = True
        if measuring := coverage.Coverage.current():
            measuring.stop()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With `--page`, test files that cannot hold the page's tests are not even imported."""
    selection = config.stash.get(_page_key, None)
    if selection is None or collection_path.is_dir() or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return not selection.collects(collection_path)


@pytest.hookimpl(trylast=True)  # after pytest's own tmp_path plugin is configured
def pytest_configure(config: pytest.Config) -> None:
    """Start the janitor (once per run, in the controller) and the watchdog (in every process)."""
    if not hasattr(config, "workerinput"):  # the controller of an xdist run, or a run without xdist
        # Workers' folders are inside the controller's; its pipe closes when this process ends.
        janitor.start(config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    watchdog = Watchdog(stream=terminal_stream())
    config.stash[WATCHDOG_KEY] = watchdog
    config.add_cleanup(watchdog.close)
    if config.getoption("numprocesses", None) and not hasattr(config, "workerinput"):
        config.pluginmanager.register(WorkerReportWait(watchdog), "worker-report-wait")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, object, object]:
    """The session-scoped fixtures' teardown runs under the time limit too (after Ctrl-C as well)."""
    watchdog = session.config.stash[WATCHDOG_KEY]
    watchdog.arm("the teardown of session-scoped fixtures")
    try:
        return (yield)
    finally:
        watchdog.disarm()


class WorkerReportWait:
    """In the controller of a pytest-xdist run: a limit on the wait for the workers' next report.

    The controller only waits for its workers. One that hangs where no test's limit runs
    (starting up, collecting) would keep it waiting for ever, so the controller gives up when
    no report has come for half as long again as one test may take.
    """

    WAITING = "the pytest-xdist controller, waiting for any worker to report a test"

    def __init__(self, watchdog: Watchdog) -> None:
        self.watchdog = watchdog

    def restart(self) -> None:
        """Start the wait again."""
        self.watchdog.arm(self.WAITING, limit=self.watchdog.limit * 1.5)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self) -> Generator[None, object, object]:
        """The wait runs while the workers run the tests."""
        self.restart()
        try:
            return (yield)
        finally:
            self.watchdog.disarm()

    def pytest_runtest_logreport(self) -> None:
        """A worker reported a test: the wait starts again."""
        self.restart()

    def pytest_testnodeready(self) -> None:
        """A worker started: its collection and first test get a whole wait."""
        self.restart()

    def pytest_xdist_node_collection_finished(self) -> None:
        """A worker collected: its first test, with the session's fixtures, gets a whole wait."""
        self.restart()


class SameParameterScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """pytest-xdist's load distribution, except that a module's tests with the same parameter id
    run in one worker: the four checks of one page (`test_pages.py::...[tutorial.md]`) share a
    single visit of that page. A test class is one unit too; every other test is a unit of its own.

    (pytest-xdist's `--dist loadgroup` would do this with `xdist_group` marks, but with pytest 9
    its renaming of node ids has no effect, so the marks group nothing.)
    """

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        # Collection order, not largest unit first: the browser tests must come last (see below).
        config.option.loadscopereorder = False
        super().__init__(config, log)

    def _split_scope(self, nodeid: str) -> str:
        return scheduling_unit(nodeid)


def scheduling_unit(nodeid: str) -> str:
    """The unit a test is sent to a worker in: its module's tests with its parameter id, its
    class, or itself."""
    module, _, test = nodeid.partition("::")
    if "::" in test:  # a test class shares its class-scoped fixtures
        return f"{module}::{test.split('::')[0]}"
    if test.endswith("]") and "[" in test:
        return f"{module}::[{test[test.index('[') + 1 : -1]}]"
    return nodeid


@pytest.hookimpl(trylast=True)  # after any plugin that reorders (pytest-randomly shuffles)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With `--page`, only that page's tests; and the browser tests run last, in each process.

    Playwright's sync API keeps its event loop marked as running in the thread that started it,
    so once a process has started the browser, no asyncio test can run there any more. Run
    after every other test, the browser is started only when no asyncio test is left to run.
    Among the browser tests the parametrized ones (mostly one short unit per page) come last, so
    the workers end together instead of one finishing a long search test alone.
    """
    selection = config.stash.get(_page_key, None)
    if selection is not None:
        unwanted = [item for item in items if not selection.wants(item.nodeid)]
        items[:] = [item for item in items if selection.wants(item.nodeid)]
        config.hook.pytest_deselected(items=unwanted)
        if not items:
            raise pytest.UsageError(f"--page {config.getoption('page')}: nothing collected verifies this page")

    def order(item: pytest.Item) -> tuple[bool, bool]:
        browser = item.nodeid.startswith(BROWSER_TESTS)
        return browser, browser and item.nodeid.endswith("]")

    items.sort(key=order)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: absent with `-p no:xdist`
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> SameParameterScheduling:
    """Distribute the tests with `SameParameterScheduling`."""
    return SameParameterScheduling(config, log)
