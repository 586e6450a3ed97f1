"""Sessions and concurrency: one session per task, never one shared by
several.
"""

import asyncio

from sqlalchemy import func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.database import create_session_factory


async def backend_pid(session: AsyncSession) -> int:
    """Which server connection ran the query, after holding it for a moment."""
    await session.execute(select(func.pg_sleep(0.05)))
    pid: int = (
        await session.execute(select(func.pg_backend_pid()))
    ).scalar_one()
    return pid


# --8<-- [start:test_shared_session_fails]
async def test_one_session_cannot_run_two_queries_at_once(
    engine: AsyncEngine,
) -> None:
    async with create_session_factory(engine)() as session:
        first, second = await asyncio.gather(
            backend_pid(session), backend_pid(session), return_exceptions=True
        )

    assert isinstance(first, int)
    assert isinstance(second, InvalidRequestError)
    assert "concurrent operations are not permitted" in str(second)


# --8<-- [end:test_shared_session_fails]


# --8<-- [start:test_session_per_task]
async def test_each_task_gets_its_own_session(engine: AsyncEngine) -> None:
    session_factory = create_session_factory(engine)
    # at most 3 connections for this fan-out, whatever the pool allows
    limit = asyncio.Semaphore(3)

    async def in_own_session() -> int:
        async with limit, session_factory() as session:
            return await backend_pid(session)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(in_own_session()) for _ in range(6)]

    # they really ran on separate connections
    assert len({task.result() for task in tasks}) >= 2


# --8<-- [end:test_session_per_task]
