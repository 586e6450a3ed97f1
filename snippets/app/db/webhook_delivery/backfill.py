"""The backfill job of `webhook_deliveries.message_id`: link each delivery to its message, or delete it."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.backfill import BACKFILL_BATCH_SIZE, backfill_in_batches

# --8<-- [start:link_deliveries_to_messages]
LINK_BATCH = text(
    """
    UPDATE webhook_deliveries SET message_id = (payload ->> 'id')::uuid
    WHERE id IN (
        SELECT delivery.id FROM webhook_deliveries AS delivery
        WHERE delivery.message_id IS NULL
          AND EXISTS (SELECT FROM messages WHERE messages.id = (delivery.payload ->> 'id')::uuid)
        LIMIT :batch_size
    )
    """
)
"""Up to `batch_size` unlinked deliveries whose message still exists (soft-deleted or not) get its id."""

DELETE_BATCH = text(
    """
    DELETE FROM webhook_deliveries
    WHERE id IN (
        SELECT delivery.id FROM webhook_deliveries AS delivery
        WHERE delivery.message_id IS NULL
          AND NOT EXISTS (SELECT FROM messages WHERE messages.id = (delivery.payload ->> 'id')::uuid)
        LIMIT :batch_size
    )
    """
)
"""Up to `batch_size` unlinked deliveries whose message was purged: their payload is its last copy."""


async def link_deliveries_to_messages(engine: AsyncEngine, *, batch_size: int = BACKFILL_BATCH_SIZE) -> tuple[int, int]:
    """Link every delivery to its message, then delete those whose message is gone; returns (linked, deleted).

    Run it once every replica writes `message_id`: a row an older replica writes later would stay
    unlinked. A delivery and its message commit in one transaction, so a delivery this job sees
    without its message belongs to a purged one, never to a message still being written.
    """
    linked = await backfill_in_batches(engine, LINK_BATCH, batch_size=batch_size)
    deleted = await backfill_in_batches(engine, DELETE_BATCH, batch_size=batch_size)
    return linked, deleted


# --8<-- [end:link_deliveries_to_messages]
