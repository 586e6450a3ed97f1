"""Concurrent database work: one session per task, a bounded number at a time."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


# --8<-- [start:session_per_task]
async def run_in_sessions[ItemT, ResultT](
    session_factory: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession, ItemT], Awaitable[ResultT]],
    items: Iterable[ItemT],
    *,
    max_concurrency: int,
) -> list[ResultT]:
    """Run `work(session, item)` for every item concurrently and return the results in item order.

    Each call gets its own session (an `AsyncSession` is not safe to share between tasks) and
    owns its transaction, so one failure does not undo the others. At most `max_concurrency`
    calls hold a connection at once; keep it within the pool (`pool_size + max_overflow`).
    If a call raises, the rest are cancelled and the errors come back as an `ExceptionGroup`.
    """
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
    slots = asyncio.Semaphore(max_concurrency)

    async def run_one(item: ItemT) -> ResultT:
        async with slots, session_factory() as session:
            return await work(session, item)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(run_one(item)) for item in items]
    return [task.result() for task in tasks]


# --8<-- [end:session_per_task]
