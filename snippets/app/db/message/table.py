"""Data access for `messages`."""

import uuid
from collections.abc import Collection
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlmodel import col

from app.base.base_table import MAX_PAGE_SIZE
from app.base.owned_table import OwnedTable
from app.core.errors import NotFoundError, PreconditionFailedError
from app.db.message.model import Message
from app.db.message_delivery.model import MessageDelivery


# --8<-- [start:messages_table]
class MessagesTable(OwnedTable[Message]):
    """Repository for one owner's messages; everything it needs comes from
    `OwnedTable` and `BaseTable`.
    """

    model = Message
    unique_fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "messages_client_ref_live_key": ("client_ref",)
    }

    # --8<-- [end:messages_table]

    # --8<-- [start:messages_with_deliveries]
    async def with_deliveries(
        self, ids: Collection[uuid.UUID]
    ) -> list[Message]:
        """Live messages with these ids, each with its live `deliveries`
        loaded: two queries for any number.

        Raises:
            ValueError: more than `MAX_PAGE_SIZE` ids; ask page by page.
        """
        if len(ids) > MAX_PAGE_SIZE:
            raise ValueError(
                f"at most {MAX_PAGE_SIZE} ids per call, got {len(ids)}"
            )
        statement = (
            select(Message)
            # One-to-many: a second SELECT ... WHERE message_id IN (...)
            # fetches every collection at once. The WHERE on the parents does
            # not reach that second query: it filters out deleted children
            # itself.
            .options(
                selectinload(
                    Message.deliveries.and_(  # type: ignore[attr-defined]
                        col(MessageDelivery.deleted_at).is_(None)
                    )
                )
            )
            .where(
                col(Message.id).in_(ids),
                col(Message.deleted_at).is_(None),
                *self._scope(),
            )
            .order_by(col(Message.created_at), col(Message.id))
        )
        return list((await self.session.execute(statement)).scalars())

    # --8<-- [end:messages_with_deliveries]

    # --8<-- [start:update_at_version]
    async def update_at_version(
        self,
        id: uuid.UUID,
        data: BaseModel,
        *,
        versions: Collection[int] | None,
    ) -> Message:
        """Apply the fields sent to a live row whose `version` is one of
        `versions` (any, if `None`), and increment its `version`.

        One statement checks and writes, so no other update can slip in between
        a read and this write.

        Raises:
            NotFoundError: no live row has this id.
            PreconditionFailedError: the row has another version: the caller's
                copy is stale.
            ConflictError: a unique constraint rejected the change.
        """
        conditions = self._live_row(id)
        if versions is not None:
            conditions.append(col(Message.version).in_(versions))
        statement = (
            update(Message)
            .where(*conditions)
            .values(
                **data.model_dump(exclude_unset=True),
                version=col(Message.version) + 1,
            )
            .returning(Message)
            .execution_options(populate_existing=True)
        )
        with self._unique_violation_as_conflict():
            updated = (await self.session.execute(statement)).scalars().first()
        if updated is not None:
            return updated
        # Nothing matched: tell a missing row from a stale version. Read after
        # the write, not before it.
        if await self.first_or_default(id) is None:
            raise NotFoundError(f"message {id} does not exist")
        raise PreconditionFailedError(
            f"message {id} has changed since the version in If-Match; read it"
            " again"
        )

    # --8<-- [end:update_at_version]
