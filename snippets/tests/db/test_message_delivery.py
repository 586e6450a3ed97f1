"""Relationships and eager loading: no lazy loads in async code, a fixed number
of queries per page.
"""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, InvalidRequestError, MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import lazyload
from sqlmodel import col

from app.base.base_table import MAX_PAGE_SIZE
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from app.db.message_delivery.model import DeliveryOutcome, MessageDelivery
from app.db.message_delivery.table import MessageDeliveriesTable
from tests.principals import OWNER


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """Every SQL statement the test's connection sends, in order."""
    sent: list[str] = []

    def record(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    yield sent
    event.remove(connection.sync_connection, "before_cursor_execute", record)


async def messages_with_attempts(
    session: AsyncSession, count: int
) -> list[Message]:
    """`count` messages, each with a failed attempt followed by a successful
    one.
    """
    table, deliveries = (
        MessagesTable(session, OWNER),
        MessageDeliveriesTable(session),
    )
    created = []
    for index in range(count):
        message = await table.insert_model(
            Message(
                channel=Channel.EMAIL,
                recipient="ada@example.com",
                body="Hi",
                client_ref=f"eager-{index}",
            )
        )
        await deliveries.insert_model(
            MessageDelivery(
                message_id=message.id,
                outcome=DeliveryOutcome.FAILED,
                error="mailbox full",
            )
        )
        await deliveries.insert_model(
            MessageDelivery(
                message_id=message.id, outcome=DeliveryOutcome.SENT
            )
        )
        created.append(message)
    # start the test from the database, not from objects already in memory
    session.expunge_all()
    return created


# --8<-- [start:test_lazy_load_raises]
async def test_a_relationship_never_loads_on_access(
    session: AsyncSession,
) -> None:
    [created] = await messages_with_attempts(session, 1)
    message = await MessagesTable(session, OWNER).first_or_default(created.id)
    assert message is not None

    with pytest.raises(
        InvalidRequestError,
        match=r"'Message.deliveries' is not available due to lazy='raise'",
    ):
        _ = message.deliveries


# --8<-- [end:test_lazy_load_raises]


# --8<-- [start:test_missing_greenlet]
async def test_without_lazy_raise_an_async_lazy_load_fails_anyway(
    session: AsyncSession,
) -> None:
    [created] = await messages_with_attempts(session, 1)
    # `lazyload` restores the default behaviour for this one query: load on
    # first access.
    result = await session.execute(
        select(Message)
        .where(col(Message.id) == created.id)
        .options(lazyload("*"))
    )
    message = result.scalar_one()

    with pytest.raises(
        MissingGreenlet, match="greenlet_spawn has not been called"
    ):
        _ = message.deliveries


# --8<-- [end:test_missing_greenlet]


# --8<-- [start:test_selectinload_query_count]
async def test_selectinload_needs_two_queries_for_any_number_of_messages(
    session: AsyncSession, statements: list[str]
) -> None:
    created = await messages_with_attempts(session, 5)
    statements.clear()

    loaded = await MessagesTable(session, OWNER).with_deliveries(
        [message.id for message in created]
    )

    # the messages, then every delivery WHERE message_id IN (...)
    assert len(statements) == 2
    assert {message.id for message in loaded} == {
        message.id for message in created
    }
    assert all(
        [d.outcome for d in message.deliveries] == ["failed", "sent"]
        for message in loaded
    )


# --8<-- [end:test_selectinload_query_count]


async def test_with_deliveries_skips_soft_deleted_and_caps_the_ids(
    session: AsyncSession,
) -> None:
    live, deleted = await messages_with_attempts(session, 2)
    table = MessagesTable(session, OWNER)
    await table.soft_delete(deleted.id)

    assert [
        message.id
        for message in await table.with_deliveries([live.id, deleted.id])
    ] == [live.id]
    with pytest.raises(ValueError, match=f"at most {MAX_PAGE_SIZE} ids"):
        await table.with_deliveries(
            [uuid.uuid4() for _ in range(MAX_PAGE_SIZE + 1)]
        )


# --8<-- [start:test_selectinload_soft_deleted_children]
async def test_with_deliveries_leaves_out_soft_deleted_attempts(
    session: AsyncSession,
) -> None:
    [created] = await messages_with_attempts(session, 1)
    deliveries = MessageDeliveriesTable(session)
    failed = await deliveries.first_by(
        message_id=created.id, outcome=DeliveryOutcome.FAILED
    )
    assert failed is not None
    assert await deliveries.soft_delete(failed.id)
    # load the collection from the database, not from the identity map
    session.expunge_all()

    [loaded] = await MessagesTable(session, OWNER).with_deliveries(
        [created.id]
    )

    assert [delivery.outcome for delivery in loaded.deliveries] == ["sent"]


# --8<-- [end:test_selectinload_soft_deleted_children]


# --8<-- [start:test_joinedload_query_count]
async def test_joinedload_brings_each_failures_message_in_one_query(
    session: AsyncSession, statements: list[str]
) -> None:
    live, deleted = await messages_with_attempts(session, 2)
    await MessagesTable(session, OWNER).soft_delete(deleted.id)
    statements.clear()

    failures = await MessageDeliveriesTable(session).latest_failures()

    assert len(statements) == 1
    assert [(f.error, f.message.client_ref) for f in failures] == [
        ("mailbox full", live.client_ref)
    ]


# --8<-- [end:test_joinedload_query_count]


@pytest.mark.parametrize("limit", [0, MAX_PAGE_SIZE + 1])
async def test_latest_failures_rejects_an_unbounded_limit(
    session: AsyncSession, limit: int
) -> None:
    with pytest.raises(
        ValueError, match=f"limit must be between 1 and {MAX_PAGE_SIZE}"
    ):
        await MessageDeliveriesTable(session).latest_failures(limit=limit)


async def test_deleting_a_message_cascades_to_its_deliveries(
    session: AsyncSession,
) -> None:
    [created] = await messages_with_attempts(session, 1)

    # passive_deletes: nothing is loaded first
    assert await MessagesTable(session, OWNER).delete(created.id)

    assert (
        await MessageDeliveriesTable(session).all_count(include_deleted=True)
        == 0
    )


async def test_a_failed_attempt_must_say_why(session: AsyncSession) -> None:
    [created] = await messages_with_attempts(session, 1)

    with pytest.raises(
        IntegrityError, match="message_deliveries_error_iff_failed"
    ):
        await MessageDeliveriesTable(session).insert_model(
            MessageDelivery(
                message_id=created.id, outcome=DeliveryOutcome.FAILED
            )
        )
