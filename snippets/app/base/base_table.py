"""`BaseTable`: the repository every table class extends."""

import base64
import binascii
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.base.base_entity import BaseEntity
from app.core.errors import ConflictError

# --8<-- [start:page_limits]
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = (
    100  # no read returns more rows than this, whatever a client asks for
)
PURGE_BATCH_SIZE = 1000  # rows removed per transaction by `purge_deleted`
# --8<-- [end:page_limits]

UNIQUE_VIOLATION = "23505"


# --8<-- [start:cursor]
@dataclass(frozen=True)
class Cursor:
    """A keyset position: the sort key of the last row a client has seen."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        """An opaque, URL-safe token for the `next_cursor` field."""
        raw = f"{self.created_at.isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        """Parse a token from a client; raise `ValueError` for anything
        else.
        """
        try:
            created_at, _, id_ = (
                base64.urlsafe_b64decode(token.encode())
                .decode()
                .partition("|")
            )
            moment = datetime.fromisoformat(created_at)
            # this API writes an offset; without one the instant is unknown
            if moment.tzinfo is None:
                raise ValueError("no UTC offset")
            # In UTC here: a time that leaves years 1-9999 there is an
            # `OverflowError` now, not in the driver.
            return cls(created_at=moment.astimezone(UTC), id=uuid.UUID(id_))
        except (
            binascii.Error,
            UnicodeDecodeError,
            ValueError,
            OverflowError,
        ) as error:
            raise ValueError("not a cursor returned by this API") from error


@dataclass(frozen=True)
class Page[ModelT: BaseEntity]:
    """One page of rows and the cursor of the next page (`None` on the last
    one).
    """

    items: list[ModelT]
    next_cursor: Cursor | None


# --8<-- [end:cursor]


# --8<-- [start:base_table]
class BaseTable[ModelT: BaseEntity]:
    """Data access for one table, on the caller's session.

    Methods `flush`, never `commit`: the service that calls them owns the
    transaction. Reads leave out soft-deleted rows unless asked with
    `include_deleted=True`.
    """

    model: type[ModelT]
    """The SQLModel class this table stores; each subclass sets it."""

    unique_fields: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Unique constraint or index name -> the fields a `409` names.
    `test_every_unique_index_is_mapped` checks it against the migrated
    schema."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --8<-- [end:base_table]

    # --8<-- [start:base_table_reads]
    async def first_or_default(
        self, id: uuid.UUID, *, include_deleted: bool = False
    ) -> ModelT | None:
        """Return the row with this primary key, or `None`."""
        return await self.first_by(id=id, include_deleted=include_deleted)

    async def first_by(
        self, *, include_deleted: bool = False, **filters: object
    ) -> ModelT | None:
        """Return the first row whose columns equal `filters` (in key order),
        or `None`.
        """
        statement = select(self.model).where(
            *self._conditions(filters, include_deleted)
        )
        result = await self.session.execute(
            statement.order_by(*self._sort_key()).limit(1)
        )
        return result.scalars().first()

    async def all(
        self, *, limit: int = DEFAULT_PAGE_SIZE, after: Cursor | None = None
    ) -> Page[ModelT]:
        """Return one page of live rows, oldest first; pass `next_cursor` as
        `after` for the next.
        """
        return await self.all_by(limit=limit, after=after)

    # --8<-- [start:keyset_pagination]
    async def all_by(
        self,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        after: Cursor | None = None,
        include_deleted: bool = False,
        **filters: object,
    ) -> Page[ModelT]:
        """Return one page of rows matching `filters`, ordered by `(created_at,
        id)`.

        Raises:
            ValueError: `limit` is not between 1 and `MAX_PAGE_SIZE`.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(
                f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}"
            )
        conditions = self._conditions(filters, include_deleted)
        if after is not None:
            conditions.append(
                tuple_(*self._sort_key())
                > tuple_(literal(after.created_at), literal(after.id))
            )
        # One row more than asked tells whether another page exists.
        statement = (
            select(self.model)
            .where(*conditions)
            .order_by(*self._sort_key())
            .limit(limit + 1)
        )
        rows = list((await self.session.execute(statement)).scalars())
        items = rows[:limit]
        next_cursor = (
            Cursor(items[-1].created_at, items[-1].id)
            if len(rows) > limit
            else None
        )
        return Page(items=items, next_cursor=next_cursor)

    # --8<-- [end:keyset_pagination]

    async def all_count(
        self, *, include_deleted: bool = False, **filters: object
    ) -> int:
        """Count the rows matching `filters`."""
        statement = (
            select(func.count())
            .select_from(self.model)
            .where(*self._conditions(filters, include_deleted))
        )
        return (await self.session.execute(statement)).scalar_one()

    # --8<-- [end:base_table_reads]

    # --8<-- [start:base_table_writes]
    async def insert_model(self, model: ModelT) -> ModelT:
        """Add a new row and flush it, so database defaults are loaded.

        Raises:
            ConflictError: a unique constraint rejected the row.
        """
        self.session.add(model)
        await self._flush()
        return model

    async def update(self, id: uuid.UUID, data: BaseModel) -> ModelT | None:
        """Apply the fields the client sent (`exclude_unset`) to a live row;
        `None` if there is none.

        Raises:
            ConflictError: a unique constraint rejected the change.
        """
        values = data.model_dump(exclude_unset=True)
        if not values:
            return await self.first_or_default(id)
        # One statement checks and writes: a row deleted while this one waited
        # for its lock is not changed, because PostgreSQL re-checks the whole
        # WHERE clause on the row it then finds.
        statement = (
            update(self.model)
            .where(*self._live_row(id))
            .values(**values)
            .returning(self.model)
            .execution_options(populate_existing=True)
        )
        with self._unique_violation_as_conflict():
            return (await self.session.execute(statement)).scalars().first()

    async def update_model(self, model: ModelT) -> ModelT:
        """Flush changes made to a loaded row; the trigger refreshes
        `updated_at`.
        """
        self.session.add(model)
        await self._flush()
        return model

    async def delete(self, id: uuid.UUID) -> bool:
        """Remove the row for good, soft-deleted or not. Return whether one
        existed.
        """
        model = await self.first_or_default(id, include_deleted=True)
        if model is None:
            return False
        await self.session.delete(model)
        await self._flush()
        return True

    async def soft_delete(self, id: uuid.UUID) -> bool:
        """Mark a live row deleted; reads stop returning it. Return whether one
        was live.
        """
        statement = (
            update(self.model)
            .where(*self._live_row(id))
            .values(deleted_at=datetime.now(UTC))
            .returning(col(self.model.id))
        )
        return (await self.session.execute(statement)).first() is not None

    # --8<-- [end:base_table_writes]

    # --8<-- [start:purge_deleted]
    async def purge_deleted(
        self, *, before: datetime, batch_size: int = PURGE_BATCH_SIZE
    ) -> int:
        """Remove for good up to `batch_size` rows soft-deleted before
        `before`; return how many.

        Call it until it returns 0, one transaction per batch, so no
        transaction holds thousands of row locks or keeps autovacuum waiting.

        Raises:
            ValueError: `batch_size` is below 1.
        """
        if batch_size < 1:
            raise ValueError(
                f"batch_size must be at least 1, got {batch_size}"
            )
        oldest = (
            select(col(self.model.id))
            .where(col(self.model.deleted_at) < before, *self._scope())
            .order_by(col(self.model.deleted_at))
            .limit(batch_size)
        )
        statement = (
            delete(self.model)
            .where(col(self.model.id).in_(oldest))
            .returning(col(self.model.id))
        )
        return len((await self.session.execute(statement)).all())

    # --8<-- [end:purge_deleted]

    # --8<-- [start:table_scope]
    def _conditions(
        self, filters: dict[str, object], include_deleted: bool
    ) -> list[ColumnElement[bool]]:
        columns = self.model.__table__.columns  # type: ignore[attr-defined]
        unknown = sorted(set(filters) - set(columns.keys()))
        if unknown:
            raise ValueError(
                f"{self.model.__name__} has no column(s) {', '.join(unknown)}"
            )
        conditions: list[ColumnElement[bool]] = [
            columns[name] == value for name, value in filters.items()
        ]
        conditions += self._scope()
        if not include_deleted:
            conditions.append(col(self.model.deleted_at).is_(None))
        return conditions

    def _live_row(self, id: uuid.UUID) -> list[ColumnElement[bool]]:
        return [
            col(self.model.id) == id,
            col(self.model.deleted_at).is_(None),
            *self._scope(),
        ]

    def _scope(self) -> list[ColumnElement[bool]]:
        """Conditions every query of this table adds: none here; `OwnedTable`
        adds the owner's.
        """
        return []

    # --8<-- [end:table_scope]

    def _sort_key(self) -> tuple[Any, Any]:
        return col(self.model.created_at), col(self.model.id)

    # --8<-- [start:flush_conflict]
    async def _flush(self) -> None:
        with self._unique_violation_as_conflict():
            await self.session.flush()

    @contextmanager
    def _unique_violation_as_conflict(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
            # PostgreSQL's own detail quotes the value ("Key (client_ref)=(a-1)
            # already exists."), which may be personal data or a secret: the
            # client learns only which fields, from our own map. `from None`: a
            # logged traceback of the ConflictError would print the chained
            # error's detail.
            constraint = getattr(
                getattr(error.orig, "__cause__", None), "constraint_name", None
            )
            fields = self.unique_fields.get(constraint or "")
            if fields is None:
                raise ConflictError(
                    "A unique value is already taken.", constraint=constraint
                ) from None
            detail = (
                "Another resource already has the same"
                f" {' and '.join(fields)}."
            )
            raise ConflictError(
                detail, fields=fields, constraint=constraint
            ) from None

    # --8<-- [end:flush_conflict]
