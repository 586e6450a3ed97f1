"""The fence guard's run-wide hooks: collect every worker's findings, check the whole run, print the totals.

They live outside the guard's conftest because under pytest-xdist the controller, which sees
the whole run, loads only the conftests of the test paths; `tests/conftest.py` imports them.
Each worker guards its share of the fences and hands its ledger to the controller when it
finishes (`workeroutput`); the controller runs the final checks once every worker is done and
pytest-cov has combined their coverage data.
"""

import time
from collections.abc import Generator

import pytest

from guidekit import proofs
from guidekit.guard import final_checks
from guidekit.guard.ledger import LEDGER, export_included, merge_included
from guidekit.markdown.fences import all_fences
from guidekit.paths import DOCS, ROOT, SNIPPETS
from guidekit.paths import DOCS as PAGES
from guidekit.proofs import dont_boxes, named_tests, pages_naming_tests, unproven_boxes

_collected_key = pytest.StashKey[bool]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember whether this run includes the service tests (only then can coverage prove anything)."""
    session.config.stash[_collected_key] = any(item.nodeid.startswith("snippets/tests/") for item in session.items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand this worker's outcomes to the controller, which checks the whole run."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fence_guard"] = {
            "entries": LEDGER.export(),
            "notes": LEDGER.notes,
            "included": export_included(),
            "whole_run": session.config.stash.get(_collected_key, False),
        }


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: absent with `-p no:xdist`
def pytest_testnodedown(node: object, error: object) -> None:
    """In the controller: merge what a worker's guard found."""
    found = getattr(node, "workeroutput", {}).get("fence_guard")
    if found:
        LEDGER.merge(found["entries"], found["notes"])
        merge_included(found["included"])
        config = node.config  # type: ignore[attr-defined]
        config.stash[_collected_key] = config.stash.get(_collected_key, False) or found["whole_run"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """After every test and teardown, and after pytest-cov saved the run's data: the final checks.

    In a pytest-xdist worker there is nothing to check yet: the controller checks the whole run.
    """
    started = time.time()
    result = yield
    if hasattr(session.config, "workerinput"):
        return result
    final_started = time.perf_counter()
    whole_run = session.config.stash.get(_collected_key, False)
    checked = set(LEDGER.entries)
    problems = final_checks.check_included_lines_ran(final_checks.run_data(ROOT, started), SNIPPETS, whole_run)
    problems += final_checks.check_share(all_fences_checked=checked >= {fence.where for fence in all_fences(DOCS)})
    problems += _check_proofs(session.config)
    LEDGER.seconds["final checks"] = time.perf_counter() - final_started
    if problems:
        LEDGER.notes.extend(f"FAILED: {problem}" for problem in problems)
        session.testsfailed += 1
    return result


def _runs_every_test(config: pytest.Config) -> bool:
    """A plain `uv run pytest`: every test path, nothing selected by keyword, marker or page."""
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not config.option.keyword
        and not config.option.markexpr
        and not config.getoption("page", None)
        and not config.getoption("deselect", None)
        and not config.getoption("ignore", None)
        and not config.option.collectonly
        and not config.getoption("lf", False)
        and not config.getoption("stepwise", False)
        and not config.option.maxfail
    )


def _check_proofs(config: pytest.Config) -> list[str]:
    """Every test a page names as a proof passed in this run; the count goes into the summary."""
    naming = pages_naming_tests()
    claims = sum(len(named_tests("", path.read_text(encoding="utf-8"))) for path in PAGES.rglob("*.md"))
    problems = proofs.unproven(naming, proofs.OUTCOMES, whole_run=_runs_every_test(config))
    passed = sum(proofs.OUTCOMES.get(name) == {"passed"} for name in naming)
    texts = [path.read_text(encoding="utf-8") for path in PAGES.rglob("*.md")]
    boxes = sum(len(dont_boxes(text)) for text in texts)
    unproven = sum(len(unproven_boxes("", text)) for text in texts)  # the build stops on any of them
    LEDGER.notes.append(
        f"proofs: {claims} claims on the pages name {len(naming)} tests; {passed} of them ran and passed in this run;"
        f' {boxes} "Don\'t" boxes, {unproven} of them (or of their bullets) naming no test'
    )
    return problems


def pytest_configure(config: pytest.Config) -> None:
    """Note every test's outcome for the proofs (see `proofs.Recorder`)."""
    if not config.pluginmanager.has_plugin("proof-recorder"):
        config.pluginmanager.register(proofs.Recorder(), "proof-recorder")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up the time the guard's own tests take (setup, call and teardown)."""
    if report.nodeid.startswith("tests/fence_guard/"):
        part = "self-tests" if "test_bites" in report.nodeid else "fence checks"
        LEDGER.seconds[part] = LEDGER.seconds.get(part, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the guard's totals by kind (found, verified, opted out) and its final problems."""
    lines = LEDGER.summary()
    if lines:
        terminalreporter.section("fence guard")
        for line in lines:
            terminalreporter.write_line(line)
