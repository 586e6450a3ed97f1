"""Concurrent database work: one session per task, a bounded number at a time,
and transactions retried when PostgreSQL aborts them for a concurrent one."""

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

from loguru import logger
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import ContentionError


# --8<-- [start:session_per_task]
async def run_in_sessions[ItemT, ResultT](
    session_factory: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession, ItemT], Awaitable[ResultT]],
    items: Iterable[ItemT],
    *,
    max_concurrency: int,
) -> list[ResultT]:
    """Run `work(session, item)` for every item concurrently and return the
    results in item order.

    Each call gets its own session (an `AsyncSession` is not safe to share
    between tasks) and owns its transaction, so one failure does not undo the
    others. At most `max_concurrency` calls hold a connection at once; keep it
    within the pool (`pool_size + max_overflow`). If a call raises, the rest
    are cancelled and the errors come back as an `ExceptionGroup`.
    """
    if max_concurrency < 1:
        raise ValueError(
            f"max_concurrency must be at least 1, got {max_concurrency}"
        )
    slots = asyncio.Semaphore(max_concurrency)

    async def run_one(item: ItemT) -> ResultT:
        async with slots, session_factory() as session:
            return await work(session, item)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(run_one(item)) for item in items]
    return [task.result() for task in tasks]


# --8<-- [end:session_per_task]


# --8<-- [start:retry_transaction]
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
RETRYABLE_SQLSTATES = frozenset({SERIALIZATION_FAILURE, DEADLOCK_DETECTED})
"""PostgreSQL aborted the transaction because of a concurrent one; the same
work may succeed if run again.
"""

IsolationLevel = Literal["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]


def backoff_seconds(
    attempt: int, *, base: float = 0.02, cap: float = 0.5
) -> float:
    """How long to wait after failed attempt number `attempt` (1-based): a
    random time up to `base * 2 ** (attempt - 1)`, never above `cap`. The
    randomness keeps two clashing transactions from retrying in step and
    clashing again."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 (spreading, not a secret)


async def retry_transaction[ResultT](
    session: AsyncSession,
    work: Callable[[], Awaitable[ResultT]],
    *,
    isolation_level: IsolationLevel | None = None,
    attempts: int = 3,
) -> ResultT:
    """Run `work` in a transaction of its own and commit; run it all again, in
    a new transaction, when PostgreSQL aborts it with SQLSTATE `40001` or
    `40P01`, up to `attempts` times in all.

    `work` must do everything again on each call (its reads too: a retry that
    reuses a value read in the failed transaction repeats the race), and must
    send nothing outside the database.

    Raises:
        ContentionError: the last attempt failed with `40001` or `40P01` too.
    """
    attempt = 1
    while True:
        try:
            # the commit is inside the try: SERIALIZABLE can fail there
            async with session.begin():
                if (
                    isolation_level is not None
                    # set before the first query, on this transaction's
                    # connection
                ):
                    await session.connection(
                        execution_options={"isolation_level": isolation_level}
                    )
                return await work()
        except DBAPIError as error:
            sqlstate = getattr(error.orig, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES:
                raise
            if attempt >= attempts:
                raise ContentionError(
                    f"gave up after {attempts} attempts; try again later"
                ) from error
            logger.info(
                "transaction aborted with {sqlstate}; attempt {attempt} of"
                " {attempts} failed",
                sqlstate=sqlstate,
                attempt=attempt,
                attempts=attempts,
            )
        await asyncio.sleep(backoff_seconds(attempt))
        attempt += 1


# --8<-- [end:retry_transaction]
