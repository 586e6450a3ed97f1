"""`run_in_sessions`: concurrent work on committed data, one session per
task.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import delete, func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlmodel import col

from app.api.messaging.models import MessageCreate, MessageRead
from app.api.messaging.service import MessagingService
from app.base.base_table import Cursor
from app.core.errors import ConflictError
from app.db.concurrency import run_in_sessions
from app.db.database import create_session_factory
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER


@pytest.fixture
def ref_prefix() -> str:
    """A `client_ref` prefix no other test uses, so cleanup removes only this
    test's rows.
    """
    return f"concurrent-{uuid.uuid4().hex[:8]}-"


@pytest_asyncio.fixture
async def committing_factory(
    engine: AsyncEngine, ref_prefix: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Production sessions on the pool: each task needs its own connection, so
    the one-connection rollback fixture cannot serve them. What they commit is
    deleted afterwards."""
    yield create_session_factory(engine)
    async with engine.begin() as connection:
        await connection.execute(
            delete(Message).where(
                col(Message.client_ref).startswith(ref_prefix)
            )
        )


def message(ref: str) -> MessageCreate:
    return MessageCreate(
        channel=Channel.SMS,
        recipient="+15550100",
        body="Concurrent hello",
        client_ref=ref,
    )


CreateMessage = Callable[[AsyncSession, MessageCreate], Awaitable[MessageRead]]


# --8<-- [start:test_session_per_task]
@pytest.fixture
def create_message(redis: Redis) -> CreateMessage:
    """One task's work: a service on the session `run_in_sessions` hands it."""

    async def create(
        session: AsyncSession, data: MessageCreate
    ) -> MessageRead:
        return await MessagingService(session, redis, OWNER).create(data)

    return create


async def test_each_task_commits_on_its_own_session(
    committing_factory: async_sessionmaker[AsyncSession],
    ref_prefix: str,
    create_message: CreateMessage,
) -> None:
    items = [message(f"{ref_prefix}{index}") for index in range(6)]

    created = await run_in_sessions(
        committing_factory, create_message, items, max_concurrency=3
    )

    # item order kept
    assert [row.client_ref for row in created] == [
        item.client_ref for item in items
    ]
    # a new session sees what the tasks committed
    async with committing_factory() as session:
        stored = [
            await MessagesTable(session, OWNER).first_or_default(row.id)
            for row in created
        ]
    assert all(row is not None for row in stored)


# --8<-- [end:test_session_per_task]


async def test_concurrency_is_bounded_and_sessions_are_not_shared(
    committing_factory: async_sessionmaker[AsyncSession],
) -> None:
    in_flight, peak = 0, 0
    # kept alive, so no two can share an id()
    sessions: list[AsyncSession] = []

    async def ping(session: AsyncSession, item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        sessions.append(session)
        await session.execute(select(1))
        # hold the slot long enough for the others to pile up
        await asyncio.sleep(0.01)
        in_flight -= 1
        return item * 2

    results = await run_in_sessions(
        committing_factory, ping, range(8), max_concurrency=2
    )

    assert results == [item * 2 for item in range(8)]
    assert peak == 2
    assert len({id(session) for session in sessions}) == 8


async def test_a_failed_task_rolls_back_alone_and_raises_a_group(
    committing_factory: async_sessionmaker[AsyncSession],
    ref_prefix: str,
    create_message: CreateMessage,
) -> None:
    duplicate = f"{ref_prefix}twice"

    with pytest.raises(ExceptionGroup) as raised:
        await run_in_sessions(
            committing_factory,
            create_message,
            [message(duplicate), message(duplicate)],
            max_concurrency=2,
        )

    assert raised.group_contains(ConflictError)
    # the other task's transaction committed
    async with committing_factory() as session:
        assert (
            await MessagesTable(session, OWNER).all_count(client_ref=duplicate)
            == 1
        )


async def test_max_concurrency_must_be_positive(
    committing_factory: async_sessionmaker[AsyncSession],
    create_message: CreateMessage,
) -> None:
    with pytest.raises(ValueError, match="max_concurrency must be at least 1"):
        await run_in_sessions(
            committing_factory, create_message, [], max_concurrency=0
        )


# --8<-- [start:test_shared_session_fails]
async def test_one_session_shared_by_concurrent_tasks_fails(
    committing_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with committing_factory() as shared:
        results = await asyncio.gather(
            *(shared.execute(select(1)) for _ in range(3)),
            return_exceptions=True,
        )

    failures = [result for result in results if isinstance(result, Exception)]
    # the first query got the connection; the others were refused
    assert len(failures) == 2
    assert all(
        isinstance(failure, InvalidRequestError) for failure in failures
    )
    assert "concurrent operations are not permitted" in str(failures[0])


# --8<-- [end:test_shared_session_fails]


async def test_a_warm_shared_session_queues_the_tasks_on_one_transaction_without_an_error(
    committing_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with committing_factory() as shared:
        await shared.execute(select(1))  # the session now holds its connection
        results = await asyncio.gather(
            *(shared.execute(select(func.txid_current())) for _ in range(3))
        )

    # no error, and one transaction for all three
    assert len({result.scalar_one() for result in results}) == 1


async def test_a_row_committed_late_with_an_older_created_at_is_behind_a_cursor(
    committing_factory: async_sessionmaker[AsyncSession], ref_prefix: str
) -> None:
    async with (
        committing_factory() as slow,
        committing_factory() as fast,
        committing_factory() as reader,
    ):
        # `created_at` is `now()`: this transaction's start, not its commit
        async with slow.begin():
            late = await MessagesTable(slow, OWNER).insert_model(
                Message(**message(f"{ref_prefix}slow").model_dump())
            )
            async with fast.begin():
                early = await MessagesTable(fast, OWNER).insert_model(
                    Message(**message(f"{ref_prefix}fast").model_dump())
                )
            # a client has read up to the row committed first
            cursor = Cursor(early.created_at, early.id)
        assert late.created_at < early.created_at

        after_cursor = await MessagesTable(reader, OWNER).all_by(
            after=cursor, client_ref=late.client_ref
        )
        from_start = await MessagesTable(reader, OWNER).all_by(
            client_ref=late.client_ref
        )

    # committed, but the client paging on from its cursor never sees it
    assert after_cursor.items == []
    assert [row.id for row in from_start.items] == [late.id]
