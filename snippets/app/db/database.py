"""The async engine, the session factory and the per-request session
dependency.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings


# --8<-- [start:engine]
def create_engine(settings: Settings) -> AsyncEngine:
    """One engine per process, created in the lifespan and disposed when it
    ends.
    """
    return create_async_engine(
        settings.sqlalchemy_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        # a connection the server closed is replaced, not handed out
        pool_pre_ping=True,
        connect_args={"server_settings": server_timeouts(settings)},
    )


# --8<-- [start:server_timeouts]
def server_timeouts(settings: Settings) -> dict[str, str]:
    """PostgreSQL's own limits for every connection of the engine, sent when
    the connection opens.

    In milliseconds, PostgreSQL's unit when a value has none. The server
    enforces them itself: a statement stuck behind a lock or on a bad plan is
    cancelled, and its connection freed, whatever the client does.
    """
    statement = settings.database_statement_timeout_seconds
    lock = settings.database_lock_timeout_seconds
    idle = settings.database_idle_in_transaction_timeout_seconds
    return {
        "statement_timeout": f"{statement * 1000:.0f}",
        "lock_timeout": f"{lock * 1000:.0f}",
        "idle_in_transaction_session_timeout": f"{idle * 1000:.0f}",
    }


# --8<-- [end:server_timeouts]


def create_session_factory(
    engine: AsyncEngine,
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit, so responses need no
    extra I/O.
    """
    return async_sessionmaker(engine, expire_on_commit=False)


# --8<-- [end:engine]


# --8<-- [start:session_dependency]
async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, closed when the response is done. Services own
    its transactions.
    """
    session_factory: async_sessionmaker[AsyncSession] = (
        request.state.session_factory
    )
    async with session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
# --8<-- [end:session_dependency]
