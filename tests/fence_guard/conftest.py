"""Fixtures of the fence guard.

The SQL checker needs the same migrated PostgreSQL the service tests use: the service's
`database_url` fixture, which reaches this folder through the servers plugin the root `conftest.py`
registers (`snippets/tests/servers.py`), migrated by the real dbmate through the very code the
testing page shows.

The guard's run-wide hooks (merging what pytest-xdist workers found, the final checks, the
summary) are in `guidekit/guard/run_hooks.py`: they must run in xdist's controller, which loads only the
conftests of the test paths, so `tests/conftest.py` carries them.
"""

import pytest
from dotenv import dotenv_values
from fastapi import FastAPI
from sqlalchemy import URL

from app.core.config import get_settings
from app.main import create_app
from guidekit.guard.check_shell import HELP_CACHE
from guidekit.paths import SNIPPETS


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
