"""Business logic of messaging: each public method is one transaction."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends
from pydantic import JsonValue, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.auth import OwnerDep
from app.api.idempotency import IdempotencyKeys, IdempotentRequest
from app.api.messaging.models import (
    MessageCreate,
    MessageDeleted,
    MessagePage,
    MessageRead,
    MessageUpdate,
)
from app.api.webhook.events import WebhookEvents
from app.base.base_table import PURGE_BATCH_SIZE, Cursor
from app.base.json_cache import JsonCache
from app.base.owned_table import EVERY_OWNER
from app.core.config import get_settings
from app.core.errors import NotFoundError, PreconditionFailedError
from app.db.concurrency import retry_transaction
from app.db.database import SessionDep
from app.db.idempotency_key.table import IdempotencyKeysTable
from app.db.message.model import Message
from app.db.message.table import MessagesTable
from app.db.redis import RedisDep
from app.db.webhook.model import WebhookEvent

MESSAGE_LIST = TypeAdapter(list[MessageRead])
"""Reads and writes a batch's response to replay."""


# --8<-- [start:messaging_service]
class MessagingService:
    """Creates, reads, changes and deletes messages. It owns the transaction;
    tables only flush.
    """

    # --8<-- [start:service_owner]
    def __init__(
        self, session: SessionDep, redis: RedisDep, owner: OwnerDep
    ) -> None:
        self.session = session
        # every query of it adds `owner = :owner`
        self.messages = MessagesTable(session, owner)
        self.events = WebhookEvents(session, owner)
        self.idempotency = IdempotencyKeys(session)
        # The owner is part of the key: a message cached for its owner is never
        # served to another.
        self.cache = JsonCache(
            redis,
            MessageRead,
            prefix=f"message:{owner}",
            ttl_seconds=get_settings().message_cache_ttl_seconds,
        )

    # --8<-- [end:service_owner]

    # --8<-- [start:idempotent_create]
    async def create(
        self, data: MessageCreate, idempotency: IdempotentRequest | None = None
    ) -> MessageRead:
        """With an `Idempotency-Key`, a retry gets the first response back and
        creates nothing.
        """
        async with self.session.begin():
            if idempotency is not None:
                first = await self.idempotency.replay(
                    idempotency,
                    "messages.create",
                    data.model_dump(mode="json"),
                )
                if first is not None:
                    return MessageRead.model_validate(first.response)
            message = MessageRead.model_validate(
                await self.messages.insert_model(Message(**data.model_dump()))
            )
            pending = await self.events.record(
                WebhookEvent.MESSAGE_CREATED, message.id, message
            )
            if idempotency is not None:
                # commits with the row
                await self.idempotency.save(
                    idempotency, message.model_dump(mode="json")
                )
        # after the commit: the deliveries now exist for the worker
        await self.events.send(pending)
        return message

    # --8<-- [end:idempotent_create]
    # --8<-- [end:messaging_service]

    # --8<-- [start:messaging_service_batch]
    async def create_batch(
        self,
        items: list[MessageCreate],
        idempotency: IdempotentRequest | None = None,
        *,
        charge: Callable[[], Awaitable[None]] | None = None,
    ) -> list[MessageRead]:
        """All or nothing: if one insert fails, the whole transaction rolls
        back.

        `charge` (the rate limit) is called only when the batch is new work: a
        retry that gets the first response back costs nothing, and a refused
        charge rolls the claimed key back.
        """
        async with self.session.begin():
            if idempotency is not None:
                payload: JsonValue = [
                    item.model_dump(mode="json") for item in items
                ]
                first = await self.idempotency.replay(
                    idempotency, "messages.create_batch", payload
                )
                if first is not None:
                    return MESSAGE_LIST.validate_python(first.response)
            if charge is not None:
                await charge()
            created = [
                MessageRead.model_validate(
                    await self.messages.insert_model(
                        Message(**item.model_dump())
                    )
                )
                for item in items
            ]
            pending = [
                delivery_id
                for message in created
                for delivery_id in await self.events.record(
                    WebhookEvent.MESSAGE_CREATED, message.id, message
                )
            ]
            if idempotency is not None:
                await self.idempotency.save(
                    idempotency, MESSAGE_LIST.dump_python(created, mode="json")
                )
        await self.events.send(pending)
        return created

    # --8<-- [end:messaging_service_batch]

    # --8<-- [start:messaging_service_reads]
    async def get(self, message_id: uuid.UUID) -> MessageRead:
        """Served from the cache when it can be; see `update` and `delete` for
        invalidation.
        """
        return await self.cache.get_or_load(
            message_id, lambda: self._load(message_id)
        )

    async def _load(self, message_id: uuid.UUID) -> MessageRead:
        async with self.session.begin():
            message = await self.messages.first_or_default(message_id)
        if message is None:
            raise NotFoundError(f"message {message_id} does not exist")
        return MessageRead.model_validate(message)

    async def list(self, limit: int, cursor: Cursor | None) -> MessagePage:
        async with self.session.begin():
            page = await self.messages.all(limit=limit, after=cursor)
        return MessagePage(
            items=[MessageRead.model_validate(row) for row in page.items],
            next_cursor=(
                page.next_cursor.encode() if page.next_cursor else None
            ),
        )

    # --8<-- [end:messaging_service_reads]

    # --8<-- [start:messaging_service_writes]
    # --8<-- [start:messaging_service_update_delete]
    async def update(
        self,
        message_id: uuid.UUID,
        data: MessageUpdate,
        *,
        versions: frozenset[int] | None,
    ) -> MessageRead:
        """Change a message if its version is one of `versions` (any, if
        `None`), as `If-Match` asks.
        """

        # --8<-- [start:retry_the_whole_transaction]
        async def attempt() -> tuple[MessageRead, list[uuid.UUID]]:
            message = await self.messages.update_at_version(
                message_id, data, versions=versions
            )
            updated = MessageRead.model_validate(message)
            return updated, await self.events.record(
                WebhookEvent.MESSAGE_UPDATED, message_id, updated
            )

        # A deadlock aborts the whole transaction: the retry runs all of it
        # again, not the failed statement.
        try:
            updated, pending = await retry_transaction(self.session, attempt)
        except PreconditionFailedError:
            # The client's ETag may have come from a stale cached copy: drop
            # it, so its next GET reads the row.
            await self.cache.invalidate(message_id)
            raise
        # --8<-- [end:retry_the_whole_transaction]
        # after the commit, never inside the transaction
        await self.cache.invalidate(message_id)
        await self.events.send(pending)
        return updated

    async def delete(self, message_id: uuid.UUID) -> None:
        async with self.session.begin():
            if not await self.messages.soft_delete(message_id):
                raise NotFoundError(f"message {message_id} does not exist")
            pending = await self.events.record(
                WebhookEvent.MESSAGE_DELETED,
                message_id,
                MessageDeleted(id=message_id),
            )
        await self.cache.invalidate(message_id)
        await self.events.send(pending)

    # --8<-- [end:messaging_service_update_delete]


# --8<-- [start:service_dependency]
MessagingServiceDep = Annotated[MessagingService, Depends()]
# --8<-- [end:service_dependency]
# --8<-- [end:messaging_service_writes]


# --8<-- [start:purge_deleted_messages]
async def purge_deleted_messages(
    session: AsyncSession,
    *,
    older_than: timedelta,
    batch_size: int = PURGE_BATCH_SIZE,
) -> int:
    """Remove messages soft-deleted longer than `older_than` ago, one short
    transaction per batch.

    A scheduled job calls this; the grace period leaves time to undo a
    deletion.
    """
    cutoff = datetime.now(UTC) - older_than
    # a job for no principal: every owner's rows
    messages = MessagesTable(session, EVERY_OWNER)
    purged = 0
    while True:
        async with session.begin():
            batch = await messages.purge_deleted(
                before=cutoff, batch_size=batch_size
            )
        purged += batch
        if batch < batch_size:
            return purged


# --8<-- [end:purge_deleted_messages]


# --8<-- [start:purge_expired_idempotency_keys]
async def purge_expired_idempotency_keys(
    session: AsyncSession, *, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Remove the idempotency keys past their `expires_at`, one short
    transaction per batch.

    A scheduled job calls this to free the space: an expired key already starts
    a new request.
    """
    keys = IdempotencyKeysTable(session)
    now = datetime.now(UTC)
    purged = 0
    while True:
        async with session.begin():
            batch = await keys.purge_expired(before=now, batch_size=batch_size)
        purged += batch
        if batch < batch_size:
            return purged


# --8<-- [end:purge_expired_idempotency_keys]
