"""Engine settings for PgBouncer in transaction pooling mode, tested against
what PgBouncer does to a server connection: other clients prepare statements on
it, and it may be reset between transactions."""

import uuid

import asyncpg
import pytest
from sqlalchemy import URL, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlmodel import col

from app.core.config import Settings
from app.db.message.model import Message


# --8<-- [start:pgbouncer_engine]
def create_engine_behind_pgbouncer(url: URL) -> AsyncEngine:
    """An engine for PgBouncer without `max_prepared_statements` (before 1.21,
    or left off).
    """
    return create_async_engine(
        url,
        # PgBouncer is the pool; a second one here only keeps its connections
        # busy
        poolclass=NullPool,
        connect_args={
            "statement_cache_size": 0,  # asyncpg's statement cache
            # SQLAlchemy's cache of the statements it prepares
            "prepared_statement_cache_size": 0,
            # asyncpg numbers statements from 1 in every process: names that
            # cannot clash with another client's
            "prepared_statement_name_func": lambda: (
                f"__asyncpg_{uuid.uuid4()}__"
            ),
        },
    )


# --8<-- [end:pgbouncer_engine]


QUERY = select(col(Message.id)).limit(1)


async def driver(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under SQLAlchemy's adapter: what it sends is not
    prepared.
    """
    return (await connection.get_raw_connection()).driver_connection


async def take_the_next_statement_names(connection: AsyncConnection) -> None:
    """Prepare the names asyncpg gives its next statements, as another
    process's client would.
    """
    raw = await driver(connection)
    # named `__asyncpg_stmt_<n>__` from asyncpg's counter
    probe = await raw.prepare("SELECT 1", name=True)
    last = int(
        probe.get_name().removeprefix("__asyncpg_stmt_").removesuffix("__"), 16
    )
    await raw.execute(
        "; ".join(
            f"PREPARE __asyncpg_stmt_{n:x}__ AS SELECT 1"
            for n in range(last + 1, last + 20)
        )
    )


async def reset_as_pgbouncer_would(connection: AsyncConnection) -> None:
    """What the next transaction sees on another server connection, or on one
    reset in between.
    """
    await (await driver(connection)).execute("DEALLOCATE ALL")


async def test_statement_names_of_another_client_break_the_default_engine_only(
    settings: Settings,
) -> None:
    default, behind_pgbouncer = (
        create_async_engine(
            settings.sqlalchemy_database_url, poolclass=NullPool
        ),
        create_engine_behind_pgbouncer(settings.sqlalchemy_database_url),
    )
    async with default.connect() as connection:
        await take_the_next_statement_names(connection)
        with pytest.raises(DBAPIError, match="already exists"):
            await connection.execute(QUERY)
    async with behind_pgbouncer.connect() as connection:
        await take_the_next_statement_names(connection)
        await connection.execute(QUERY)
    await default.dispose()
    await behind_pgbouncer.dispose()


async def test_a_reset_server_connection_breaks_the_default_engine_only(
    settings: Settings,
) -> None:
    default, behind_pgbouncer = (
        create_async_engine(
            settings.sqlalchemy_database_url, poolclass=NullPool
        ),
        create_engine_behind_pgbouncer(settings.sqlalchemy_database_url),
    )
    async with default.connect() as connection:
        await connection.execute(QUERY)
        await reset_as_pgbouncer_would(connection)
        with pytest.raises(DBAPIError, match="does not exist"):
            # the statement SQLAlchemy cached is gone
            await connection.execute(QUERY)
    async with behind_pgbouncer.connect() as connection:
        await connection.execute(QUERY)
        await reset_as_pgbouncer_would(connection)
        await connection.execute(QUERY)
    await default.dispose()
    await behind_pgbouncer.dispose()
