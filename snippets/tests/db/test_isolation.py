"""Isolation levels and concurrent writes on real PostgreSQL: what one
transaction sees of another's commits.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlmodel import col

from app.api.messaging.models import MessageUpdate
from app.db.database import create_session_factory
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER

SERIALIZATION_FAILURE = "40001"


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Production sessions on the pool: two transactions need two connections,
    and real commits.
    """
    return create_session_factory(engine)


@pytest_asyncio.fixture
async def message_id(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[uuid.UUID]:
    """A committed message with the body "Before"; deleted afterwards."""
    async with session_factory() as session, session.begin():
        message = await MessagesTable(session, OWNER).insert_model(
            Message(
                channel=Channel.SMS,
                recipient="+15550100",
                body="Before",
                client_ref=f"iso-{uuid.uuid4()}",
            )
        )
    yield message.id
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(Message).where(col(Message.id) == message.id)
        )


async def read_body(session: AsyncSession, message_id: uuid.UUID) -> str:
    body: str = (
        await session.execute(
            select(col(Message.body)).where(col(Message.id) == message_id)
        )
    ).scalar_one()
    return body


async def commit_new_body(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    """Another request: its own session, connection and transaction, committed
    at once.
    """
    async with session_factory() as other, other.begin():
        await other.execute(
            update(Message)
            .where(col(Message.id) == message_id)
            .values(body="After")
        )


# --8<-- [start:test_read_committed_snapshot_per_statement]
async def test_read_committed_sees_a_commit_between_two_reads(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    # READ COMMITTED, the default
    async with (
        session_factory() as session,
        session.begin(),
    ):
        first = await read_body(session, message_id)
        await commit_new_body(session_factory, message_id)
        second = await read_body(session, message_id)

    # one transaction, two snapshots
    assert (first, second) == (
        "Before",
        "After",
    )


# --8<-- [end:test_read_committed_snapshot_per_statement]


# --8<-- [start:test_repeatable_read_one_snapshot]
async def test_repeatable_read_keeps_one_snapshot_for_the_transaction(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    async with session_factory() as session, session.begin():
        # Set before the first query: the level applies to the connection this
        # transaction takes.
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"}
        )
        first = await read_body(session, message_id)
        await commit_new_body(session_factory, message_id)
        second = await read_body(session, message_id)

    # the snapshot of the first query, to the end
    assert (first, second) == (
        "Before",
        "Before",
    )


# --8<-- [end:test_repeatable_read_one_snapshot]


# --8<-- [start:test_repeatable_read_serialization_failure]
async def test_repeatable_read_fails_a_write_to_a_row_changed_since_its_snapshot(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    async def append_to_body(*, concurrent_write: bool) -> None:
        async with session_factory() as session, session.begin():
            await session.connection(
                execution_options={"isolation_level": "REPEATABLE READ"}
            )
            body = await read_body(session, message_id)
            # another request changes the row and commits first
            if concurrent_write:
                await commit_new_body(session_factory, message_id)
            await session.execute(
                update(Message)
                .where(col(Message.id) == message_id)
                .values(body=f"{body}!")
            )

    with pytest.raises(DBAPIError) as raised:
        await append_to_body(concurrent_write=True)
    assert (
        getattr(raised.value.orig, "sqlstate", None) == SERIALIZATION_FAILURE
    )
    assert "could not serialize access due to concurrent update" in str(
        raised.value
    )

    # the retry: a new transaction, a new snapshot
    await append_to_body(concurrent_write=False)
    async with session_factory() as session, session.begin():
        assert await read_body(session, message_id) == "After!"


# --8<-- [end:test_repeatable_read_serialization_failure]


async def test_repeatable_read_fails_a_row_lock_on_a_row_changed_since_its_snapshot(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    async with session_factory() as session, session.begin():
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"}
        )
        await read_body(session, message_id)  # takes the snapshot
        await commit_new_body(session_factory, message_id)
        locked_read = (
            select(Message)
            .where(col(Message.id) == message_id)
            .with_for_update()
        )
        with pytest.raises(DBAPIError) as raised:
            await session.execute(locked_read)
    assert (
        getattr(raised.value.orig, "sqlstate", None) == SERIALIZATION_FAILURE
    )


# --8<-- [start:test_serializable_write_skew]
@pytest.mark.parametrize(
    ("isolation_level", "second_commit_fails"),
    [("REPEATABLE READ", False), ("SERIALIZABLE", True)],
)
async def test_only_serializable_stops_two_checks_that_each_pass_before_an_insert(
    session_factory: async_sessionmaker[AsyncSession],
    isolation_level: str,
    second_commit_fails: bool,
) -> None:
    group = f"iso-{uuid.uuid4()}-"  # the rule: at most one message per group

    async def count(session: AsyncSession) -> int:
        statement = select(func.count()).where(
            col(Message.client_ref).startswith(group)
        )
        counted: int = (await session.execute(statement)).scalar_one()
        return counted

    async def insert(session: AsyncSession, index: int) -> None:
        message = Message(
            channel=Channel.SMS,
            recipient="+15550100",
            body="Hi",
            client_ref=f"{group}{index}",
        )
        await MessagesTable(session, OWNER).insert_model(message)

    try:
        async with session_factory() as first, session_factory() as second:
            await first.begin()
            await second.begin()
            for session in (first, second):
                await session.connection(
                    execution_options={"isolation_level": isolation_level}
                )
                assert await count(session) == 0  # each sees room for one more
            await insert(first, 0)
            await insert(second, 1)
            await first.commit()
            if second_commit_fails:
                with pytest.raises(DBAPIError) as raised:
                    await second.commit()
                assert (
                    getattr(raised.value.orig, "sqlstate", None)
                    == SERIALIZATION_FAILURE
                )
            else:
                await second.commit()
        async with session_factory() as session, session.begin():
            assert await count(session) == (1 if second_commit_fails else 2)
    finally:
        async with session_factory() as session, session.begin():
            await session.execute(
                delete(Message).where(
                    col(Message.client_ref).startswith(group)
                )
            )


# --8<-- [end:test_serializable_write_skew]


# --8<-- [start:test_lost_update]
async def test_update_without_a_version_loses_a_concurrent_change(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    async with session_factory() as first, session_factory() as second:
        await first.begin()
        await second.begin()
        # Two requests read the same row, then each writes a body built from
        # what it read.
        read_by_first = await MessagesTable(first, OWNER).first_or_default(
            message_id
        )
        read_by_second = await MessagesTable(second, OWNER).first_or_default(
            message_id
        )
        assert read_by_first is not None
        assert read_by_second is not None

        await MessagesTable(first, OWNER).update(
            message_id,
            MessageUpdate(body=f"{read_by_first.body}, edited by one"),
        )
        await first.commit()
        await MessagesTable(second, OWNER).update(
            message_id,
            MessageUpdate(body=f"{read_by_second.body}, edited by two"),
        )
        # no error: nothing told the second request that the row had changed
        await second.commit()

    async with session_factory() as session, session.begin():
        # the first edit is gone
        assert await read_body(session, message_id) == "Before, edited by two"


# --8<-- [end:test_lost_update]


async def test_select_for_update_makes_the_second_edit_wait_for_the_first(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> None:
    locked_read = (
        select(col(Message.body))
        .where(col(Message.id) == message_id)
        .with_for_update()
    )
    async with session_factory() as first, session_factory() as second:
        await first.begin()
        await second.begin()
        read_by_first = (await first.execute(locked_read)).scalar_one()
        read_by_second = asyncio.create_task(second.execute(locked_read))
        await asyncio.sleep(0.2)
        # the row lock of the first request holds it back
        assert not read_by_second.done()

        await MessagesTable(first, OWNER).update(
            message_id, MessageUpdate(body=f"{read_by_first}, edited by one")
        )
        await first.commit()
        # now it reads the first edit
        body = (await read_by_second).scalar_one()
        await MessagesTable(second, OWNER).update(
            message_id, MessageUpdate(body=f"{body}, edited by two")
        )
        await second.commit()

    async with session_factory() as session, session.begin():
        assert (
            await read_body(session, message_id)
            == "Before, edited by one, edited by two"
        )
