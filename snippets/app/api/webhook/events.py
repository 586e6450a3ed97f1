"""Webhook events: recorded inside the change's transaction, sent after it
commits.
"""

import asyncio
import uuid

from kombu.exceptions import OperationalError
from loguru import logger
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.celery_app import DELIVER_WEBHOOK_TASK, celery_app
from app.db.webhook.model import WebhookEvent
from app.db.webhook_delivery.table import WebhookDeliveriesTable


# --8<-- [start:webhook_events]
class WebhookEvents:
    """Call `record` inside the transaction that makes the change, and `send`
    after it commits.
    """

    def __init__(self, session: AsyncSession, owner: str) -> None:
        self.deliveries = WebhookDeliveriesTable(session)
        # the message's owner: only that principal's subscriptions hear of it
        self.owner = owner

    async def record(
        self, event: WebhookEvent, message_id: uuid.UUID, data: BaseModel
    ) -> list[uuid.UUID]:
        """One pending delivery per subscriber, committed or rolled back with
        the change itself.

        The deliveries point at `message_id`, so they go when the message is
        purged.
        """
        deliveries = await self.deliveries.fan_out(
            event, message_id, data.model_dump(mode="json"), self.owner
        )
        return [delivery.id for delivery in deliveries]

    @staticmethod
    async def send(delivery_ids: list[uuid.UUID]) -> None:
        """Enqueue after the commit, so a worker never looks for a row that is
        not there yet.

        An unreachable broker does not fail the request: the change is
        committed, and each delivery is a `pending` row that the sweep
        (`requeue_lost_deliveries`) sends when its task never came. `send_task`
        talks to Redis synchronously; a thread keeps that off the event loop.
        """
        for index, delivery_id in enumerate(delivery_ids):
            try:
                await asyncio.to_thread(
                    celery_app.send_task,
                    DELIVER_WEBHOOK_TASK,
                    args=[str(delivery_id)],
                )
            # the broker is unreachable: the rest would fail the same way
            except OperationalError as error:
                # One error per send, with every id left, so Sentry reports it
                # once.
                logger.error(
                    "{count} deliveries not enqueued; the sweep will send"
                    " them",
                    count=len(delivery_ids) - index,
                    delivery_ids=[str(left) for left in delivery_ids[index:]],
                    error=str(error),
                    # kombu wraps the client's error: which one
                    cause=type(error.__cause__).__name__,
                )
                return


# --8<-- [end:webhook_events]
