"""A pytest plugin that keeps only the tests that touch PostgreSQL: `-p guidekit.database_tests`.

A test touches the database when `postgres_server` is among its fixtures, directly or through
another fixture (`database_url`, `empty_database`, `session`, ...): pytest has already resolved
that closure into `item.fixturenames`. So no marker can be forgotten on a new test.
"""

import pytest

DATABASE_FIXTURE = "postgres_server"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect every test that does not reach the PostgreSQL server."""
    kept = [item for item in items if DATABASE_FIXTURE in getattr(item, "fixturenames", ())]
    dropped = [item for item in items if DATABASE_FIXTURE not in getattr(item, "fixturenames", ())]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
