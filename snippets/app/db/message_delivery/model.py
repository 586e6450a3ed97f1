"""The `message_deliveries` table: one row per attempt to deliver a message."""

import uuid
from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field, Relationship

from app.base.base_entity import BaseEntity
from app.db.message.model import Message


# --8<-- [start:message_delivery_entity]
class DeliveryOutcome(StrEnum):
    """How one attempt ended; the CHECK constraint in the migration allows the
    same values.
    """

    SENT = "sent"
    FAILED = "failed"


class MessageDelivery(BaseEntity, table=True):
    """One delivery attempt of a message; deleting the message deletes its
    attempts (ON DELETE CASCADE).
    """

    __tablename__ = "message_deliveries"

    message_id: uuid.UUID = Field(
        foreign_key="messages.id", ondelete="CASCADE"
    )
    outcome: DeliveryOutcome = Field(sa_type=Text)
    error: str | None = None
    """Why the attempt failed; set exactly when `outcome` is `failed`."""

    message: Message = Relationship(
        back_populates="deliveries", sa_relationship_kwargs={"lazy": "raise"}
    )


# --8<-- [end:message_delivery_entity]
