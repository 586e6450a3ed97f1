"""Data access for `webhook_deliveries`."""

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.base.base_table import BaseTable
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook_delivery.model import WebhookDelivery


# --8<-- [start:webhook_deliveries_table]
class WebhookDeliveriesTable(BaseTable[WebhookDelivery]):
    """Repository for webhook deliveries."""

    model = WebhookDelivery

    async def fan_out(self, event: WebhookEvent, payload: dict[str, Any]) -> list[WebhookDelivery]:
        """Add one pending delivery per live, active subscription to `event`. Flushes, never commits."""
        subscribers = await self.session.scalars(
            select(Webhook).where(
                col(Webhook.event) == event, col(Webhook.is_active).is_(True), col(Webhook.deleted_at).is_(None)
            )
        )
        deliveries = [WebhookDelivery(webhook_id=webhook.id, event=event, payload=payload) for webhook in subscribers]
        self.session.add_all(deliveries)
        await self.session.flush()
        return deliveries


# --8<-- [end:webhook_deliveries_table]
