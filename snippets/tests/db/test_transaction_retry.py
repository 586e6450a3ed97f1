"""Two connections on real PostgreSQL: serialization failures (`40001`) and
deadlocks (`40P01`) retried by `retry_transaction` as whole transactions, why
retrying one statement is not enough, and why the version check of optimistic
locking belongs in the `UPDATE`."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlmodel import col

from app.api.messaging.models import MessageUpdate
from app.core.errors import ContentionError, PreconditionFailedError
from app.db.concurrency import backoff_seconds, retry_transaction
from app.db.database import create_session_factory
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER

SERIALIZATION_FAILURE, DEADLOCK_DETECTED, IN_FAILED_TRANSACTION = (
    "40001",
    "40P01",
    "25P02",
)


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Production sessions on the pool: two transactions need two connections,
    and real commits.
    """
    return create_session_factory(engine)


@pytest_asyncio.fixture
async def message_ids(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    """Two committed messages with the body "Start"; deleted afterwards."""
    async with session_factory() as session, session.begin():
        messages = [
            await MessagesTable(session, OWNER).insert_model(
                Message(
                    channel=Channel.SMS,
                    recipient="+15550100",
                    body="Start",
                    client_ref=f"retry-{uuid.uuid4()}",
                )
            )
            for _ in range(2)
        ]
    yield messages[0].id, messages[1].id
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(Message).where(
                col(Message.id).in_([message.id for message in messages])
            )
        )


def sqlstate(error: BaseException | None) -> str | None:
    return getattr(getattr(error, "orig", None), "sqlstate", None)


async def read_body(session: AsyncSession, message_id: uuid.UUID) -> str:
    body: str = (
        await session.execute(
            select(col(Message.body)).where(col(Message.id) == message_id)
        )
    ).scalar_one()
    return body


async def set_body(
    session: AsyncSession, message_id: uuid.UUID, body: str
) -> None:
    await session.execute(
        update(Message).where(col(Message.id) == message_id).values(body=body)
    )


async def append(
    session: AsyncSession, message_id: uuid.UUID, word: str
) -> None:
    await session.execute(
        update(Message)
        .where(col(Message.id) == message_id)
        .values(body=col(Message.body) + word)
    )


async def commit_body(
    session_factory: async_sessionmaker[AsyncSession],
    message_id: uuid.UUID,
    body: str,
) -> None:
    """Another request: its own session, connection and transaction, committed
    at once.
    """
    async with session_factory() as other, other.begin():
        await set_body(other, message_id, body)


async def committed_body(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> str:
    async with session_factory() as session, session.begin():
        return await read_body(session, message_id)


# --8<-- [start:test_retry_serialization_failure]
async def test_a_serialization_failure_is_retried_as_a_new_transaction_that_reads_again(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    message_id, _ = message_ids
    attempts = 0
    async with session_factory() as session:

        async def add_a_mark() -> str:
            nonlocal attempts
            attempts += 1
            # the snapshot of this attempt
            body = await read_body(session, message_id)
            if (
                attempts == 1
                # another request commits a change after the first attempt's
                # snapshot
            ):
                await commit_body(
                    session_factory, message_id, "Changed meanwhile"
                )
            # attempt 1: SQLSTATE 40001
            await set_body(session, message_id, f"{body}!")
            return body

        read = await retry_transaction(
            session, add_a_mark, isolation_level="REPEATABLE READ"
        )

    # the retry read the committed change
    assert (attempts, read) == (
        2,
        "Changed meanwhile",
    )
    # and kept it
    assert (
        await committed_body(session_factory, message_id)
        == "Changed meanwhile!"
    )


# --8<-- [end:test_retry_serialization_failure]


# --8<-- [start:test_retry_deadlock]
async def test_a_deadlock_is_retried_and_both_transactions_commit(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    attempts = {" one": 0, " two": 0}
    both_hold_their_first_row = asyncio.Barrier(2)

    async def update_both(
        word: str, first: uuid.UUID, second: uuid.UUID
    ) -> None:
        async with session_factory() as session:

            async def work() -> None:
                attempts[word] += 1
                # locks `first` until the transaction ends
                await append(session, first, word)
                if attempts[word] == 1:
                    await both_hold_their_first_row.wait()
                # attempt 1: each waits for the other's row
                await append(session, second, word)

            await retry_transaction(session, work)

    one, two = message_ids
    await asyncio.gather(
        update_both(" one", one, two), update_both(" two", two, one)
    )

    # PostgreSQL aborted one of the two, once, with 40P01
    assert sorted(attempts.values()) == [
        1,
        2,
    ]
    # and both transactions' changes are there, each once
    for message_id in message_ids:
        assert sorted(
            (await committed_body(session_factory, message_id)).split()
        ) == ["Start", "one", "two"]


# --8<-- [end:test_retry_deadlock]


# --8<-- [start:test_retrying_the_statement_is_wrong]
async def test_retrying_only_the_failed_statement_fails_again_every_time(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    message_id, _ = message_ids
    async with session_factory() as session, session.begin():
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"}
        )
        body = await read_body(session, message_id)
        await commit_body(session_factory, message_id, "Changed meanwhile")

        with pytest.raises(DBAPIError) as raised:
            await set_body(session, message_id, f"{body}!")
        assert sqlstate(raised.value) == SERIALIZATION_FAILURE
        # the same statement, in the same transaction
        with pytest.raises(DBAPIError) as retried:
            await set_body(session, message_id, f"{body}!")
        # "current transaction is aborted"
        assert sqlstate(retried.value) == IN_FAILED_TRANSACTION
        await session.rollback()

    async with session_factory() as session, session.begin():
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"}
        )
        body = await read_body(session, message_id)
        await commit_body(session_factory, message_id, "Changed again")
        failures = []
        for _ in range(
            3
            # each try in a savepoint, so the error does not abort the
            # transaction
        ):
            try:
                async with session.begin_nested():
                    await set_body(session, message_id, f"{body}!")
            except DBAPIError as error:
                failures.append(sqlstate(error))
        # the snapshot is the transaction's: it never succeeds
        assert failures == [SERIALIZATION_FAILURE] * 3

    assert await committed_body(session_factory, message_id) == "Changed again"


# --8<-- [end:test_retrying_the_statement_is_wrong]


async def test_after_a_deadlock_the_victim_cannot_retry_its_statement(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    one, two = message_ids
    async with session_factory() as first, session_factory() as second:
        await first.begin()
        await second.begin()
        await append(first, one, " first")
        await append(second, two, " second")
        results = await asyncio.gather(
            append(first, two, " first"),
            append(second, one, " second"),
            return_exceptions=True,
        )
        [(victim, error)] = [
            (session, result)
            for session, result in zip((first, second), results, strict=True)
            if result is not None
        ]
        assert sqlstate(error) == DEADLOCK_DETECTED

        with pytest.raises(DBAPIError) as retried:
            await append(victim, one if victim is second else two, " again")
        assert sqlstate(retried.value) == IN_FAILED_TRANSACTION
        await victim.rollback()
        survivor = second if victim is first else first
        await survivor.commit()


async def test_retries_are_bounded_and_the_last_failure_is_a_contention_error(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    message_id, _ = message_ids
    attempts = 0
    async with session_factory() as session:

        async def always_interrupted() -> None:
            nonlocal attempts
            attempts += 1
            body = await read_body(session, message_id)
            # every time
            await commit_body(
                session_factory, message_id, f"Changed {attempts}"
            )
            await set_body(session, message_id, f"{body}!")

        with pytest.raises(ContentionError) as raised:
            await retry_transaction(
                session,
                always_interrupted,
                isolation_level="REPEATABLE READ",
                attempts=3,
            )

    assert attempts == 3
    # the last failure, kept for the log
    assert sqlstate(raised.value.__cause__) == SERIALIZATION_FAILURE
    # no failed attempt wrote
    assert await committed_body(session_factory, message_id) == "Changed 3"


async def test_other_errors_are_not_retried(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    attempts = 0
    async with session_factory() as session:

        async def divide_by_zero() -> None:
            nonlocal attempts
            attempts += 1
            await session.execute(text("SELECT 1 / 0"))

        with pytest.raises(DBAPIError) as raised:
            await retry_transaction(session, divide_by_zero)

    # a bug does not go away when run again
    assert (attempts, sqlstate(raised.value)) == (
        1,
        "22012",
    )


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 0.02), (2, 0.04), (3, 0.08), (10, 0.5)]
)
def test_the_backoff_is_random_below_a_ceiling_that_doubles_up_to_a_cap(
    attempt: int, ceiling: float
) -> None:
    delays = [backoff_seconds(attempt) for _ in range(200)]

    assert all(0 <= delay <= ceiling for delay in delays)
    assert max(delays) > ceiling / 2  # spread over the range, not a fixed wait


async def test_a_read_then_write_version_check_lets_both_writers_through(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    message_id, _ = message_ids
    async with session_factory() as one, session_factory() as two:
        await one.begin()
        await two.begin()
        # Both compare the version they were sent with the stored one, in
        # Python: both see 1.
        for session in (one, two):
            stored = await MessagesTable(session, OWNER).first_or_default(
                message_id
            )
            assert stored is not None
            assert stored.version == 1
        await MessagesTable(one, OWNER).update(
            message_id, MessageUpdate(body="From one")
        )
        await one.commit()
        await MessagesTable(two, OWNER).update(
            message_id, MessageUpdate(body="From two")
        )
        await two.commit()  # no error: the check ran before the other's commit

    # "From one" is lost
    assert await committed_body(session_factory, message_id) == "From two"


async def test_the_version_check_in_the_update_lets_only_the_first_writer_through(
    session_factory: async_sessionmaker[AsyncSession],
    message_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    message_id, _ = message_ids
    async with session_factory() as one, session_factory() as two:
        await one.begin()
        await two.begin()
        await MessagesTable(one, OWNER).update_at_version(
            message_id, MessageUpdate(body="From one"), versions={1}
        )
        waiting = asyncio.create_task(
            MessagesTable(two, OWNER).update_at_version(
                message_id, MessageUpdate(body="From two"), versions={1}
            )
        )
        await asyncio.sleep(0.2)
        # the row lock of the first UPDATE holds the second back
        assert not waiting.done()
        await one.commit()
        # PostgreSQL re-checked `version = 1` on the new row
        with pytest.raises(PreconditionFailedError):
            await waiting
        await two.rollback()

    assert await committed_body(session_factory, message_id) == "From one"
