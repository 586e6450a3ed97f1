# --8<-- [start:webhook_entity]
"""The `webhooks` table as a SQLModel entity."""

from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field

from app.base.owned_table import OwnedEntity


class WebhookEvent(StrEnum):
    """What a subscriber can be told about; the CHECK constraint in the
    migration allows the same values.
    """

    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"
    MESSAGE_DELETED = "message.deleted"


class Webhook(OwnedEntity, table=True):
    """A subscription: POST each `event` to `target_url`, signed with
    `secret`.
    """

    __tablename__ = "webhooks"

    target_url: str
    """An `https://` URL, validated by the API and stored as text."""

    event: WebhookEvent = Field(sa_type=Text)
    secret: str = Field(repr=False)
    """The HMAC signing key. Kept in clear because delivery needs it to sign;
    never logged or returned.
    """

    description: str | None = None
    is_active: bool = True
    """A paused subscription keeps its secret but receives nothing."""


# --8<-- [end:webhook_entity]
