"""The backfill job of `webhook_deliveries.message_id`: link each delivery to
its message, or delete it.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.backfill import BACKFILL_BATCH_SIZE, backfill_in_batches

# --8<-- [start:link_deliveries_to_messages]
LINK_BATCH = text("""
    WITH batch AS (
        SELECT id FROM webhook_deliveries
        WHERE CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)
        ORDER BY id LIMIT :batch_size
    ), linked AS (
        UPDATE webhook_deliveries AS delivery
        SET message_id = (delivery.payload ->> 'id')::uuid
        FROM batch
        WHERE delivery.id = batch.id
          AND delivery.message_id IS NULL
          AND EXISTS (
            SELECT FROM messages
            WHERE messages.id = (delivery.payload ->> 'id')::uuid
          )
        RETURNING 1
    )
    SELECT (SELECT max(id::text) FROM batch) AS last_id,
           (SELECT count(*) FROM linked) AS changed
    """)
"""The next `batch_size` deliveries by key; the unlinked ones whose message
exists (deleted or not) get its id.
"""

DELETE_BATCH = text("""
    WITH batch AS (
        SELECT id FROM webhook_deliveries
        WHERE CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)
        ORDER BY id LIMIT :batch_size
    ), deleted AS (
        DELETE FROM webhook_deliveries AS delivery USING batch
        WHERE delivery.id = batch.id
          AND delivery.message_id IS NULL
          AND NOT EXISTS (
            SELECT FROM messages
            WHERE messages.id = (delivery.payload ->> 'id')::uuid
          )
        RETURNING 1
    )
    SELECT (SELECT max(id::text) FROM batch) AS last_id,
           (SELECT count(*) FROM deleted) AS changed
    """)
"""The next `batch_size` deliveries by key; the unlinked ones whose message was
purged (their payload is its last copy) are deleted."""


async def link_deliveries_to_messages(
    engine: AsyncEngine, *, batch_size: int = BACKFILL_BATCH_SIZE
) -> tuple[int, int]:
    """Link every delivery to its message, then delete those whose message is
    gone; returns (linked, deleted).

    Run it once every replica writes `message_id`: a row an older replica
    writes later would stay unlinked. A delivery and its message commit in one
    transaction, so a delivery this job sees without its message belongs to a
    purged one, never to a message still being written.
    """
    linked = await backfill_in_batches(
        engine, LINK_BATCH, batch_size=batch_size
    )
    deleted = await backfill_in_batches(
        engine, DELETE_BATCH, batch_size=batch_size
    )
    return linked, deleted


# --8<-- [end:link_deliveries_to_messages]
