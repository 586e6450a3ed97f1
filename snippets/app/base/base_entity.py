"""Columns every table shares: a UUID key, database-kept timestamps, a
soft-delete marker.
"""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, FetchedValue, func
from sqlmodel import Field, SQLModel

STRIPPED = (
    r"\t-\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What `str.strip()` strips, spelt out: `\\s` means less in the Rust engine
that checks Pydantic's patterns.
"""
TEXT_NOT_BLANK = rf"^[{STRIPPED}]*[^{STRIPPED}\x00][^\x00]*$"
"""Text a PostgreSQL `text` column can store (no U+0000) that is more than
whitespace.

A request model that checks it answers 422 for a NUL character, where the
INSERT would fail with a `DBAPIError` and a 500; and for `" "`, which stripping
would leave empty. Strip after this check (`AfterValidator(str.strip)`), not
before (`str_strip_whitespace`): the published `maxLength` then holds for what
the client sends, as the document says."""


# --8<-- [start:base_entity]
class BaseEntity(SQLModel):
    """Shared columns. Subclasses add `table=True` and their own fields."""

    # Read server-set values (timestamps) back with RETURNING on insert and
    # update.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    """Set by the application, so it is known before the INSERT (one source, no
    DB default).
    """

    created_at: datetime = Field(
        default=None,  # set by PostgreSQL on insert, read back on flush
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now()},
        nullable=False,
    )
    updated_at: datetime = Field(
        default=None,  # kept current by the `set_updated_at` trigger
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={
            "server_default": func.now(),
            "server_onupdate": FetchedValue(),
        },
        nullable=False,
    )
    deleted_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )


# --8<-- [end:base_entity]
