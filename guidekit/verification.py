"""A pytest plugin of the site's runs: a run that verifies pages enters the record, passed or not.

Two kinds of run verify pages: the whole suite (no paths, no `-k`, `-m`, `--lf`, `--deselect`,
`--sw`, `--co`, `--fixtures`, `--setup-plan`, `-o testpaths=...`, and with warnings still errors and
coverage on: no `-W`, `-p no:warnings`, `-o filterwarnings=...`, `--no-cov`) verifies every page; `--page docs/x.md`
with no path verifies that page (guidekit/page_mode.py picks what stands behind it). Any other run
(one file, one test) verifies no page and leaves the pages' entries alone.

In the controller (the only process of a run without pytest-xdist), at the session's start: the
fingerprint of the pages in scope and of every file they include, and the versions of the
distributions the snippets import. At its end, once: the run with its outcome (`passed` only when
pytest's exit status is 0), and each page in scope pointing at it. A failed or interrupted run is
written as one, so a page's stamp then says it is not verified; the format is in `guidekit.run_record`.
A run that ran no test body (every test skipped) is `empty`, not `passed`. At the start the run
is already entered as `running`, so a run killed before its end leaves its pages "Not verified".
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guidekit import run_record

# Options that run less than the whole suite, or no test body at all (their `dest`); a run with any
# of them set verifies no page.
NARROWING = (
    "keyword",
    "markexpr",
    "lf",
    "deselect",
    "stepwise",
    "collectonly",
    "ignore",
    "ignore_glob",
    "showfixtures",
    "show_fixtures_per_test",
    "setupplan",
    "setuponly",
)
# Settings that choose what is collected or turn warnings back from errors: overriding one with `-o`
# narrows the run.
NARROWING_SETTINGS = (
    "testpaths",
    "python_files",
    "python_classes",
    "python_functions",
    "norecursedirs",
    "addopts",
    "filterwarnings",
)


@dataclass(frozen=True)
class Run:
    """A run that verifies pages, as it was at its start."""

    started_at: str
    scope: str
    pages: list[str]
    files: dict[str, str]
    packages: dict[str, str]
    imports: dict[str, list[str]]


_run_key = pytest.StashKey[Run]()
# The outcome of a run that has started and not ended (or was killed before its end).
RUNNING = "running"
# What the controller saw of the run: test bodies that ran (`call` reports) and a Ctrl-C.
_seen = {"calls": 0, "keyboard_interrupt": 0}


def now() -> str:
    """The moment, in UTC, to the microsecond: `2026-12-05T03:40:00.123456Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def all_pages(root: Path) -> list[str]:
    """Every page of the project at `root`, as paths from the root: `docs/database/soft-delete.md`."""
    return sorted(page.relative_to(root).as_posix() for page in (root / "docs").rglob("*.md"))


def scope_of(config: pytest.Config) -> tuple[str, list[str]] | None:
    """What a run verifies when it passes: `("all", every page)`, `(page, [page])` for `--page`, or None."""
    if any(config.getoption(name, None) for name in NARROWING):
        return None
    overridden = [setting.split("=", 1)[0].strip() for setting in config.getoption("override_ini", None) or []]
    if set(overridden) & set(NARROWING_SETTINGS):
        return None
    # Warnings are errors in the site's runs: `-W` or `-p no:warnings` would let a deprecation pass.
    if config.getoption("pythonwarnings", None) or not config.pluginmanager.has_plugin("warnings"):
        return None
    # Coverage proves that every included line ran; only a `--page` run (which turns it off) may skip it,
    # and no run may lower the floor the configuration sets.
    if not config.getoption("page", None) and (
        config.getoption("no_cov", False) or config.getoption("cov_fail_under", None) != configured_floor(config)
    ):
        return None
    # A path or node id on the command line runs less than the suite, with `--page` too (it only removes files).
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return None
    if page := config.getoption("page", None):
        source = f"docs/{page.removeprefix('docs/')}"
        return source, [source]
    return "all", all_pages(config.rootpath)


def configured_floor(config: pytest.Config) -> float | None:
    """The coverage floor the configuration's `addopts` sets (`--cov-fail-under=N`), or None."""
    floors = [float(arg.split("=", 1)[1]) for arg in config.getini("addopts") if arg.startswith("--cov-fail-under=")]
    return floors[-1] if floors else None


def snippet_packages(root: Path) -> dict[str, str]:
    """The installed version of every distribution a Python file of the reference service imports."""
    snippets = root / "snippets"
    files = [
        path.relative_to(root).as_posix()
        for path in snippets.rglob("*.py")
        if not {".venv", "__pycache__"} & set(path.relative_to(snippets).parts)
    ]
    return run_record.installed_versions(run_record.snippet_distributions(files, root))


def pytest_sessionstart(session: pytest.Session) -> None:
    """In the controller of a run that verifies pages: take the fingerprint before any test runs."""
    config = session.config
    if hasattr(config, "workerinput") or (scope := scope_of(config)) is None:
        return
    name, pages = scope
    root = config.rootpath  # where pyproject.toml is: this checkout for the site's runs
    files = run_record.fingerprint(pages, root)
    imports = run_record.imports_by_file(list(files), root)
    run = Run(now(), name, pages, files, snippet_packages(root), imports)
    config.stash[_run_key] = run
    _seen.update(calls=0, keyboard_interrupt=0)
    # Marked now, so a run killed before its end (a time limit, SIGTERM) leaves its pages "Not verified".
    run_record.update(root, lambda recorded: enter(recorded, run, RUNNING))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the test bodies that ran to a pass or a failure, not a skip (in the controller, pytest-xdist's
    workers' reports arrive here too)."""
    if report.when == "call" and not report.skipped:
        _seen["calls"] += 1


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """A Ctrl-C: the one cause of an "interrupted" run. pytest's exit status 2 and this hook also come with
    collection errors (`Session.Interrupted`, a subclass of KeyboardInterrupt): those are failures."""
    if excinfo.type is KeyboardInterrupt:
        _seen["keyboard_interrupt"] = 1


def outcome_of(exitstatus: int, calls: int = 1, keyboard_interrupt: bool = False) -> str:
    """`passed` for exit status 0 with at least one test body run, `empty` for one with none;
    `interrupted` after a Ctrl-C; otherwise `failed`."""
    if keyboard_interrupt:
        return "interrupted"
    if exitstatus == pytest.ExitCode.OK:
        return "passed" if calls > 0 else "empty"
    return "failed"


def enter(recorded: run_record.Record, run: Run, outcome: str) -> None:
    """Put a run in the record, started or ended: the run, its pages pointing at it; runs no page points at go."""
    postgresql = recorded.get("postgresql") if recorded.get("postgresql_at", "") >= run.started_at else None
    runs = recorded.setdefault("runs", {})
    runs[run.started_at] = {
        "scope": run.scope,
        "outcome": outcome,
        "finished_at": now(),
        "postgresql": postgresql,
        "packages": run.packages,
        "files": run.files,
        "imports": run.imports,
    }
    pages = recorded.setdefault("pages", {})
    pages.update(dict.fromkeys(run.pages, run.started_at))
    recorded["runs"] = {started: entry for started, entry in runs.items() if started in pages.values()}


@pytest.hookimpl(trylast=True)  # after every other plugin (pytest-cov's floor) has settled the exit status
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In the controller of a run that verifies pages: enter the run, with its outcome."""
    run = session.config.stash.get(_run_key, None)
    if run is None:
        return
    outcome = outcome_of(int(session.exitstatus), _seen["calls"], bool(_seen["keyboard_interrupt"]))
    run_record.update(session.config.rootpath, lambda recorded: enter(recorded, run, outcome))
