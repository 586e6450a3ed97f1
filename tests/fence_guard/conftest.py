"""Fixtures and hooks of the fence guard.

The SQL checker needs the same migrated PostgreSQL the service tests use. Rather than copy
the service's fixtures, this conftest loads `snippets/tests/conftest.py` as a module and
re-exports its `postgres_server` and `database_url` fixtures, so the guard gets a server
and a database migrated by the real dbmate through the very code the testing page shows.
(pytest scopes conftest fixtures to their directory, and `pytest_plugins` is only allowed
in the root conftest, hence the re-export.)
"""

import importlib.util
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi import FastAPI
from sqlalchemy import URL

from app.core.config import get_settings
from app.main import create_app
from tests.fence_guard import final_checks
from tests.fence_guard.check_config import parse_dotenv
from tests.fence_guard.check_shell import HELP_CACHE
from tests.fence_guard.fences import all_fences
from tests.fence_guard.ledger import LEDGER

SERVICE_CONFTEST = Path(__file__).resolve().parents[2] / "snippets" / "tests" / "conftest.py"
ROOT = SERVICE_CONFTEST.parents[2]
SNIPPETS = ROOT / "snippets"
DOCS = ROOT / "docs"


def _load_service_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fence_guard_service_conftest", SERVICE_CONFTEST)
    assert spec is not None, f"cannot load {SERVICE_CONFTEST}"
    assert spec.loader is not None, f"cannot load {SERVICE_CONFTEST}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_service = _load_service_conftest()
postgres_server = _service.postgres_server
database_url = _service.database_url


@pytest.fixture(scope="session")
def guard_database_url(database_url: URL) -> URL:
    """The migrated test database the SQL checker runs blocks against."""
    return database_url


@pytest.fixture(scope="session")
def guard_service() -> Iterator[FastAPI]:
    """The service, for its OpenAPI document and models; never started, so no server is needed.

    It is configured with the documented local values of `.env.example`.
    """
    example = (SNIPPETS / ".env.example").read_text(encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in parse_dotenv(example, ".env.example").items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        yield create_app()
    get_settings.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    """Hand the shell checker this very pytest's help text."""
    # The running pytest has loaded the same plugins and conftests a `pytest --help` would load.
    HELP_CACHE[("pytest",)] = config._parser.optparser.format_help()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """After every test and teardown, and after pytest-cov saved the run's data: the final checks."""
    started = time.time()
    result = yield
    final_started = time.perf_counter()
    whole_run = any(item.nodeid.startswith("snippets/tests/") for item in session.items)
    checked = set(LEDGER.entries)
    problems = final_checks.check_included_lines_ran(final_checks.run_data(ROOT, started), SNIPPETS, whole_run)
    problems += final_checks.check_share(all_fences_checked=checked >= {fence.where for fence in all_fences(DOCS)})
    LEDGER.seconds["final checks"] = time.perf_counter() - final_started
    if problems:
        LEDGER.notes.extend(f"FAILED: {problem}" for problem in problems)
        session.testsfailed += 1
    return result


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
