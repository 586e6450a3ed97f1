"""The `idempotency_keys` table: the first response to each `Idempotency-Key` a
client sent.
"""

from datetime import datetime

from pydantic import JsonValue
from sqlalchemy import DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


# --8<-- [start:idempotency_key_entity]
class IdempotencyKey(SQLModel, table=True):
    """One key of one caller. Not a `BaseEntity`: a key is never updated by a
    client or soft-deleted, and the caller's own `(principal, key)` is its
    primary key."""

    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True)
    """Who sent the key (the token's subject): two callers' keys never meet."""
    key: str = Field(primary_key=True)
    fingerprint: str
    """A hash of the operation and the validated body, to tell a retry from a
    reuse of the key.
    """
    response: JsonValue = Field(default=None, sa_type=JSONB)
    """The response body to replay; NULL only inside the transaction that
    claimed the key.
    """
    created_at: datetime = Field(
        default=None,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now()},
        nullable=False,
    )
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    """From then on the same key starts a new request, and the purge may remove
    the row.
    """


# --8<-- [end:idempotency_key_entity]
