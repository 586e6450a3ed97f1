"""Data access for `idempotency_keys`."""

from datetime import datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy import delete, func, null, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.base.base_table import PURGE_BATCH_SIZE
from app.core.errors import IdempotencyKeyInFlightError
from app.db.idempotency_key.model import IdempotencyKey

LOCK_NOT_AVAILABLE = "55P03"
"""The SQLSTATE of a wait that `lock_timeout` ended."""


# --8<-- [start:idempotency_keys_table]
class IdempotencyKeysTable:
    """Repository for idempotency keys, on the caller's session. Methods never
    commit: the key commits or rolls back with the work it guards, in the
    service's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, row: IdempotencyKey, *, wait_seconds: float
    ) -> IdempotencyKey | None:
        """Insert the key and return `None`; if a committed, unexpired row
        holds it, return that row.

        The primary key does the locking: while another transaction holds the
        same key uncommitted, the INSERT waits for it to end, then inserts (it
        rolled back) or finds its row (it committed). Never a check, then an
        insert: two requests would both pass the check. An expired row is taken
        over as if it were absent. A row found is locked until this transaction
        ends, so the purge cannot remove it before the SELECT below reads it.

        Raises:
            IdempotencyKeyInFlightError: the other transaction still runs after
                `wait_seconds`.
        """
        previous = await self.session.scalar(
            text("SELECT current_setting('lock_timeout')")
        )
        await self._set_lock_timeout(f"{round(wait_seconds * 1000)}ms")
        statement = (
            insert(IdempotencyKey)
            .values(
                principal=row.principal,
                key=row.key,
                fingerprint=row.fingerprint,
                expires_at=row.expires_at,
            )
            .on_conflict_do_update(
                index_elements=["principal", "key"],
                set_={
                    "fingerprint": row.fingerprint,
                    "response": null(),
                    "created_at": func.now(),
                    "expires_at": row.expires_at,
                },
                where=col(IdempotencyKey.expires_at)
                <= func.now(),  # other rows: no update, but locked
            )
            .returning(col(IdempotencyKey.key))
        )
        try:
            inserted = (
                await self.session.execute(statement)
            ).first() is not None
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise IdempotencyKeyInFlightError(
                "A request with this Idempotency-Key is still being processed;"
                " retry it later."
            ) from None
        # the work that follows waits as long as it always did
        await self._set_lock_timeout(previous)
        if inserted:
            return None
        found = select(IdempotencyKey).where(
            *self._key(row.principal, row.key)
        )
        return (await self.session.execute(found)).scalar_one()

    async def save_response(
        self, principal: str, key: str, response: JsonValue
    ) -> None:
        """Store the response body (JSON) to replay to the retries of the
        request that claimed the key.
        """
        statement = (
            update(IdempotencyKey)
            .where(*self._key(principal, key))
            .values(response=response)
        )
        await self.session.execute(statement)

    async def _set_lock_timeout(self, value: str) -> None:
        # `true`: local to the transaction, like SET LOCAL, and it takes a
        # bound parameter.
        await self.session.execute(
            text("SELECT set_config('lock_timeout', :value, true)"),
            {"value": value},
        )

    def _key(self, principal: str, key: str) -> tuple[Any, Any]:
        return (
            col(IdempotencyKey.principal) == principal,
            col(IdempotencyKey.key) == key,
        )

    # --8<-- [end:idempotency_keys_table]

    # --8<-- [start:purge_expired_keys]
    async def purge_expired(
        self, *, before: datetime, batch_size: int = PURGE_BATCH_SIZE
    ) -> int:
        """Remove up to `batch_size` keys that expired before `before`; return
        how many.
        """
        oldest = (
            select(col(IdempotencyKey.principal), col(IdempotencyKey.key))
            .where(col(IdempotencyKey.expires_at) < before)
            .order_by(col(IdempotencyKey.expires_at))
            .limit(batch_size)
        )
        statement = (
            delete(IdempotencyKey)
            .where(
                tuple_(
                    col(IdempotencyKey.principal), col(IdempotencyKey.key)
                ).in_(oldest)
            )
            .returning(col(IdempotencyKey.key))
        )
        return len((await self.session.execute(statement)).all())

    # --8<-- [end:purge_expired_keys]
