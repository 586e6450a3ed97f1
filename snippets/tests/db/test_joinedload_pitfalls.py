"""Why collections are not loaded with `joinedload`, and why its alias is not a
table to filter on.
"""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError, SAWarning
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlmodel import col

from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from app.db.message_delivery.model import DeliveryOutcome, MessageDelivery
from app.db.message_delivery.table import MessageDeliveriesTable
from tests.principals import OWNER


async def two_messages_with_two_attempts_each(session: AsyncSession) -> None:
    """Two messages (`joined-0`, `joined-1`), each with a failed and a
    successful attempt.
    """
    messages, deliveries = (
        MessagesTable(session, OWNER),
        MessageDeliveriesTable(session),
    )
    for index in range(2):
        message = await messages.insert_model(
            Message(
                channel=Channel.EMAIL,
                recipient="ada@example.com",
                body="Hi",
                client_ref=f"joined-{index}",
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
    session.expunge_all()


async def test_joinedload_of_a_collection_sends_each_parent_once_per_child_and_needs_unique(
    session: AsyncSession,
) -> None:
    await two_messages_with_two_attempts_each(session)
    query = (
        select(Message)
        .where(col(Message.client_ref).startswith("joined-"))
        .options(joinedload(Message.deliveries))  # type: ignore[arg-type]
    )

    connection = await session.connection()
    sql = str(
        query.compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    # what the database sends back
    rows = len((await connection.exec_driver_sql(sql)).all())
    with pytest.raises(
        InvalidRequestError, match=r"unique\(\) method must be invoked"
    ):
        (await session.execute(query)).scalars().all()
    messages = (await session.execute(query)).unique().scalars().all()

    assert rows == 4  # each message's columns travel twice, once per attempt
    assert len(messages) == 2


def test_joinedload_of_a_collection_wraps_a_limit_in_a_subquery() -> None:
    eager = joinedload(Message.deliveries)  # type: ignore[arg-type]
    query = select(Message).options(eager).limit(20)

    sql = " ".join(str(query).split())

    # the LIMIT applies to the messages inside, not to the joined rows
    assert "FROM (SELECT messages." in sql
    assert sql.index("LIMIT") < sql.index("LEFT OUTER JOIN")


async def test_a_filter_beside_joinedload_adds_the_table_again_as_a_cross_join(
    session: AsyncSession,
) -> None:
    await two_messages_with_two_attempts_each(session)
    query = (
        select(MessageDelivery)
        .options(joinedload(MessageDelivery.message))  # type: ignore[arg-type]
        # meant for the joined message, but names `messages` itself
        .where(col(Message.deleted_at).is_(None))
    )

    with pytest.warns(SAWarning, match="cartesian product"):
        rows = (await session.execute(query)).scalars().all()

    assert len(rows) == 4 * 2  # every attempt paired with every live message
