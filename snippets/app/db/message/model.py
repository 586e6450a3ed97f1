"""The `messages` table as a SQLModel entity."""

from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Text
from sqlmodel import Field, Relationship

from app.base.owned_table import OwnedEntity

if TYPE_CHECKING:
    from app.db.message_delivery.model import MessageDelivery


# --8<-- [start:message_entity]
class Channel(StrEnum):
    """How a message is delivered; the CHECK constraint in the migration allows
    the same values.
    """

    EMAIL = "email"
    SMS = "sms"


class Message(OwnedEntity, table=True):
    """One outgoing message. Columns and constraints come from `db/migrations`,
    not from this class.
    """

    __tablename__ = "messages"

    channel: Channel = Field(sa_type=Text)
    recipient: str
    body: str
    client_ref: str
    """The caller's own reference (an order number, say); unique among live
    messages.
    """
    version: int = Field(
        default=None, sa_column_kwargs={"server_default": "1"}, nullable=False
    )
    """Incremented by every update (`MessagesTable.update_at_version`); the API
    sends it as the `ETag`.
    """

    deliveries: list["MessageDelivery"] = Relationship(
        back_populates="message",
        sa_relationship_kwargs={
            # async code cannot load on attribute access: say what to load in
            # the query
            "lazy": "raise",
            # ON DELETE CASCADE removes them; do not load them to delete them
            "passive_deletes": True,
            "order_by": "MessageDelivery.created_at",
        },
    )


# --8<-- [end:message_entity]
