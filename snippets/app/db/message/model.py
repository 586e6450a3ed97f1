"""The `messages` table as a SQLModel entity."""

from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field

from app.base.base_entity import BaseEntity


# --8<-- [start:message_entity]
class Channel(StrEnum):
    """How a message is delivered; the CHECK constraint in the migration allows the same values."""

    EMAIL = "email"
    SMS = "sms"


class Message(BaseEntity, table=True):
    """One outgoing message. Columns and constraints come from `db/migrations`, not from this class."""

    __tablename__ = "messages"

    channel: Channel = Field(sa_type=Text)
    recipient: str
    body: str
    client_ref: str
    """The caller's own reference (an order number, say); unique among live messages."""


# --8<-- [end:message_entity]
