"""The `webhook_deliveries` table: one event on its way to one subscriber."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.base.base_entity import BaseEntity
from app.db.webhook.model import WebhookEvent


# --8<-- [start:webhook_delivery_entity]
class DeliveryStatus(StrEnum):
    """Where a delivery stands; only `pending` ones are ever sent."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = (  # the subscription was deleted or paused before the send
        "skipped"
    )


class WebhookDelivery(BaseEntity, table=True):
    """One event for one subscriber. Its `id` is the `Idempotency-Key` the
    receiver sees.
    """

    __tablename__ = "webhook_deliveries"

    webhook_id: uuid.UUID = Field(foreign_key="webhooks.id")
    message_id: uuid.UUID | None = Field(
        default=None, foreign_key="messages.id", ondelete="CASCADE"
    )
    """The message the event is about. The payload copies it, so purging the
    message deletes the delivery too (`ON DELETE CASCADE`); `None` only in rows
    the previous release wrote."""
    event: WebhookEvent = Field(sa_type=Text)
    payload: dict[str, Any] = Field(sa_type=JSONB)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_type=Text
    )
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True)
    )


# --8<-- [end:webhook_delivery_entity]
