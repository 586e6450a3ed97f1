"""A data migration too large for one transaction: run it in batches, each committed on its own."""

from sqlalchemy import TextClause
from sqlalchemy.ext.asyncio import AsyncEngine

BACKFILL_BATCH_SIZE = 1000


# --8<-- [start:backfill_in_batches]
async def backfill_in_batches(engine: AsyncEngine, batch: TextClause, *, batch_size: int = BACKFILL_BATCH_SIZE) -> int:
    """Run `batch` again and again, each time in a transaction of its own, until it changes no row.

    `batch` is an `UPDATE` that changes at most `:batch_size` rows that still need it, so each
    transaction holds few row locks for a short time and the job can stop and rerun at any point.
    Returns how many rows were changed in all.

    Raises:
        ValueError: `batch_size` is below 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    changed = 0
    while True:
        async with engine.begin() as connection:  # commits this batch; a failure loses only this one
            rows = (await connection.execute(batch, {"batch_size": batch_size})).rowcount
        if rows == 0:
            return changed
        changed += rows


# --8<-- [end:backfill_in_batches]
