"""Fixtures and hooks of the fence guard.

The SQL checker needs the same migrated PostgreSQL the service tests use. Rather than copy
the service's fixtures, this conftest loads `snippets/tests/conftest.py` as a module and
re-exports its `postgres_server` and `database_url` fixtures, so the guard gets a server
and a database migrated by the real dbmate through the very code the testing page shows.
(pytest scopes conftest fixtures to their directory, and `pytest_plugins` is only allowed
in the root conftest, hence the re-export.)

The guard's run-wide hooks (merging what pytest-xdist workers found, the final checks, the
summary) are in `run_hooks.py`: they must run in xdist's controller, which loads only the
conftests of the test paths, so `tests/conftest.py` carries them.
"""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from dotenv import dotenv_values
from fastapi import FastAPI
from sqlalchemy import URL

from app.core.config import get_settings
from app.main import create_app
from guidekit.guard.check_shell import HELP_CACHE
from guidekit.paths import SNIPPETS

SERVICE_CONFTEST = Path(__file__).resolve().parents[2] / "snippets" / "tests" / "conftest.py"
ROOT = SERVICE_CONFTEST.parents[2]


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
def guard_service() -> FastAPI:
    """The service, for its OpenAPI document and models; never started, so no server is needed.

    It is configured with the documented local values of `.env.example`.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in dotenv_values(SNIPPETS / ".env.example").items():
            patch.setenv(name, value or "")
        get_settings.cache_clear()
        service = create_app()
        get_settings.cache_clear()
    # The environment is the service tests' again before any other test runs: their settings
    # (test secret, test servers) must not meet .env.example's, whichever order the tests run in.
    return service


def pytest_configure(config: pytest.Config) -> None:
    """Hand the shell checker this very pytest's help text."""
    # The running pytest has loaded the same plugins and conftests a `pytest --help` would load.
    HELP_CACHE[("pytest",)] = config._parser.optparser.format_help()
