"""PostgreSQL's own time limits on every connection of the engine, read back
and seen firing.
"""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.celery.tasks import task_session
from app.core.config import Settings
from app.db.database import create_engine

SERVER_TIMEOUTS = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
)


@pytest_asyncio.fixture
async def short_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The production engine factory with limits short enough to watch them
    fire.
    """
    limits = {
        "database_statement_timeout_seconds": 0.3,
        "database_lock_timeout_seconds": 0.25,
        "database_idle_in_transaction_timeout_seconds": 0.5,
    }
    engine = create_engine(settings.model_copy(update=limits))
    yield engine
    await engine.dispose()


# --8<-- [start:test_server_timeouts]
async def test_postgresql_sets_no_timeout_by_default(
    settings: Settings,
) -> None:
    # no server_settings
    bare = create_async_engine(settings.sqlalchemy_database_url)
    async with bare.connect() as connection:
        shown = [
            await connection.scalar(text(f"SHOW {name}"))
            for name in SERVER_TIMEOUTS
        ]
    await bare.dispose()

    # 0 is "no limit": a statement may wait or run forever
    assert shown == [
        "0",
        "0",
        "0",
    ]


async def test_every_connection_carries_the_configured_timeouts(
    short_engine: AsyncEngine,
) -> None:
    async with short_engine.connect() as connection:
        shown = {
            name: await connection.scalar(text(f"SHOW {name}"))
            for name in SERVER_TIMEOUTS
        }

    assert shown == {
        "statement_timeout": "300ms",
        "lock_timeout": "250ms",
        "idle_in_transaction_session_timeout": "500ms",
    }


async def test_a_slow_query_is_cancelled_by_the_server(
    short_engine: AsyncEngine,
) -> None:
    started = time.monotonic()
    async with short_engine.connect() as connection:
        with pytest.raises(DBAPIError) as cancelled:
            await connection.execute(text("SELECT pg_sleep(10)"))

    # query_canceled
    assert getattr(cancelled.value.orig, "sqlstate", None) == "57014"
    assert "statement timeout" in str(cancelled.value.orig)
    assert time.monotonic() - started < 3  # cancelled at 0.3 s, not after 10


def test_the_default_lock_timeout_is_shorter_than_the_statement_timeout() -> (
    None
):
    defaults = {
        name: field.default for name, field in Settings.model_fields.items()
    }

    # A lock wait then ends as 55P03, which says what happened, rather than as
    # a generic 57014.
    assert (
        defaults["database_lock_timeout_seconds"]
        < defaults["database_statement_timeout_seconds"]
    )


async def test_a_lock_wait_over_lock_timeout_is_cancelled(
    short_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    # a second connection, on the default engine
    async with engine.connect() as holder:
        # held until its rollback
        await holder.execute(
            text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        )
        async with short_engine.connect() as waiter:
            with pytest.raises(DBAPIError) as cancelled:
                await waiter.execute(text("SELECT count(*) FROM messages"))
        await holder.rollback()

    # lock_not_available
    assert getattr(cancelled.value.orig, "sqlstate", None) == "55P03"
    assert "lock timeout" in str(cancelled.value.orig)


async def test_a_transaction_left_idle_is_ended_by_the_server(
    short_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    async with short_engine.connect() as connection:
        # the transaction is open, and now idle
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        await asyncio.sleep(1)
        async with engine.connect() as observer:
            gone = await observer.scalar(
                text(
                    "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid ="
                    " :pid"
                ),
                {"pid": pid},
            )
        with pytest.raises(DBAPIError) as ended:
            await connection.execute(text("SELECT 1"))

    # the server ended that session, which released its locks and its snapshot
    assert gone
    assert "connection is closed" in str(ended.value.orig)


# --8<-- [end:test_server_timeouts]


async def test_a_task_session_carries_the_configured_timeouts(
    settings: Settings,
) -> None:
    limits = {
        "database_statement_timeout_seconds": 0.3,
        "database_lock_timeout_seconds": 0.25,
        "database_idle_in_transaction_timeout_seconds": 0.5,
    }
    async with task_session(settings.model_copy(update=limits)) as session:
        shown = {
            name: await session.scalar(text(f"SHOW {name}"))
            for name in SERVER_TIMEOUTS
        }

    # Celery's time limits stop the worker process; these stop the statement it
    # left on the server.
    assert shown == {
        "statement_timeout": "300ms",
        "lock_timeout": "250ms",
        "idle_in_transaction_session_timeout": "500ms",
    }
