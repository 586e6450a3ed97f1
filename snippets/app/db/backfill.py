"""A data migration too large for one transaction: run it in batches, each
committed on its own.
"""

from sqlalchemy import TextClause
from sqlalchemy.ext.asyncio import AsyncEngine

BACKFILL_BATCH_SIZE = 1000


# --8<-- [start:backfill_in_batches]
async def backfill_in_batches(
    engine: AsyncEngine,
    batch: TextClause,
    *,
    batch_size: int = BACKFILL_BATCH_SIZE,
) -> int:
    """Run `batch` again and again, each time in a transaction of its own,
    until it has seen every row.

    `batch` reads the next `:batch_size` rows by primary key after `:after`
    (NULL at first), changes those that need it, and returns one row:
    `last_id`, the last key it read (NULL when none was left), and `changed`.
    Each transaction holds few row locks for a short time, and the job ends
    even when some row cannot be fixed. Returns how many rows were changed in
    all.

    Raises:
        ValueError: `batch_size` is below 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    changed, after = 0, None
    while True:
        # commits this batch; a failure loses only this one
        async with engine.begin() as connection:
            row = (
                await connection.execute(
                    batch, {"after": after, "batch_size": batch_size}
                )
            ).one()
        if row.last_id is None:
            return changed
        changed, after = changed + row.changed, row.last_id


# --8<-- [end:backfill_in_batches]
