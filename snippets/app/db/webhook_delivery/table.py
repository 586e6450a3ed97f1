"""Data access for `webhook_deliveries`."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from app.base.base_table import BaseTable
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery


# --8<-- [start:webhook_deliveries_table]
class WebhookDeliveriesTable(BaseTable[WebhookDelivery]):
    """Repository for webhook deliveries."""

    model = WebhookDelivery

    async def fan_out(
        self,
        event: WebhookEvent,
        message_id: uuid.UUID,
        payload: dict[str, Any],
        owner: str,
    ) -> list[WebhookDelivery]:
        """Add one pending delivery per live, active subscription of `owner` to
        `event`. Flushes, never commits.
        """
        subscribers = await self.session.scalars(
            select(Webhook).where(
                col(Webhook.event) == event,
                col(Webhook.is_active).is_(True),
                col(Webhook.deleted_at).is_(None),
                col(Webhook.owner)
                # another principal's subscription never sees this message
                == owner,
            )
        )
        deliveries = [
            WebhookDelivery(
                webhook_id=webhook.id,
                event=event,
                message_id=message_id,
                payload=payload,
            )
            for webhook in subscribers
        ]
        self.session.add_all(deliveries)
        await self.session.flush()
        return deliveries

    # --8<-- [end:webhook_deliveries_table]

    # --8<-- [start:claim_lost]
    async def claim_lost(
        self, untouched_since: datetime, limit: int = 500
    ) -> list[uuid.UUID]:
        """Ids of pending deliveries nothing has touched since
        `untouched_since`, marked touched now.

        Touching them (`updated_at`) keeps the next sweep off them while their
        new tasks run. `SKIP LOCKED` lets two sweeps run at once without
        claiming the same rows. Flushes nothing else and never commits.
        """
        lost = (
            select(col(WebhookDelivery.id))
            .where(
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
                col(WebhookDelivery.updated_at) < untouched_since,
                col(WebhookDelivery.deleted_at).is_(None),
            )
            .order_by(col(WebhookDelivery.updated_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = await self.session.scalars(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(lost.scalar_subquery()))
            .values(updated_at=func.clock_timestamp())
            .returning(col(WebhookDelivery.id))
        )
        return list(claimed)

    # --8<-- [end:claim_lost]

    # --8<-- [start:count_attempt]
    async def count_attempt(
        self, id: uuid.UUID, max_attempts: int
    ) -> int | None:
        """Add one to the delivery's `attempts` and return the new count; None
        if none is left. Never commits.

        PostgreSQL computes `attempts + 1` and checks the budget under the row
        lock, so two runs of one delivery that overlap count two attempts and
        never exceed `max_attempts`; writing back a value read earlier would
        count one.
        """
        counted = await self.session.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == id,
                col(WebhookDelivery.attempts) < max_attempts,
            )
            .values(attempts=col(WebhookDelivery.attempts) + 1)
            .returning(col(WebhookDelivery.attempts))
            # the caller uses the returned count
            .execution_options(synchronize_session=False)
        )
        return counted.scalar_one_or_none()

    # --8<-- [end:count_attempt]

    # --8<-- [start:record_outcome]
    async def record_outcome(
        self, id: uuid.UUID, status: DeliveryStatus, last_error: str | None
    ) -> bool:
        """Write an attempt's outcome unless another run of the delivery
        settled it first. Never commits.

        An error only changes a pending delivery. A 2xx means the receiver has
        the event, so it replaces another run's `failed` or `skipped`, never an
        earlier `delivered`. Returns whether the row was written.
        """
        delivered = status == DeliveryStatus.DELIVERED
        current = col(WebhookDelivery.status)
        still_open = (
            current != DeliveryStatus.DELIVERED
            if delivered
            else current == DeliveryStatus.PENDING
        )
        written = await self.session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == id, still_open)
            .values(
                status=status,
                last_error=last_error,
                delivered_at=func.now() if delivered else None,
            )
            .returning(col(WebhookDelivery.id))
            .execution_options(synchronize_session=False)
        )
        return written.first() is not None

    # --8<-- [end:record_outcome]
