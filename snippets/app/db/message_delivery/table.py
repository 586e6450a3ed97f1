"""Data access for `message_deliveries`."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlmodel import col

from app.base.base_table import MAX_PAGE_SIZE, BaseTable
from app.db.message.model import Message
from app.db.message_delivery.model import DeliveryOutcome, MessageDelivery


# --8<-- [start:message_deliveries_table]
class MessageDeliveriesTable(BaseTable[MessageDelivery]):
    """Repository for delivery attempts."""

    model = MessageDelivery

    async def latest_failures(
        self, *, limit: int = MAX_PAGE_SIZE
    ) -> list[MessageDelivery]:
        """The newest failed attempts of live messages, each with its `message`
        loaded in the same query.

        Raises:
            ValueError: `limit` is not between 1 and `MAX_PAGE_SIZE`.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(
                f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}"
            )
        statement = (
            select(MessageDelivery)
            # Many-to-one: the JOIN adds one message's columns to each row, so
            # one query serves all.
            .options(
                joinedload(
                    MessageDelivery.message,  # type: ignore[arg-type]
                    innerjoin=True,
                )
            )
            .where(
                col(MessageDelivery.outcome) == DeliveryOutcome.FAILED,
                col(MessageDelivery.deleted_at).is_(None),
                # Filter through the relationship, never on the eager JOIN: its
                # alias is private.
                MessageDelivery.message.has(  # type: ignore[attr-defined]
                    col(Message.deleted_at).is_(None)
                ),
            )
            .order_by(
                col(MessageDelivery.created_at).desc(),
                col(MessageDelivery.id).desc(),
            )
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())


# --8<-- [end:message_deliveries_table]
