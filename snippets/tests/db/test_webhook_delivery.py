"""`WebhookDeliveriesTable.claim_lost` against the real schema: which pending
rows count as lost.
"""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery
from app.db.webhook_delivery.table import WebhookDeliveriesTable

HOURS_AGO = datetime.now(UTC) - timedelta(hours=3)


async def add_deliveries(
    session: AsyncSession, **rows: dict[str, Any]
) -> dict[str, WebhookDelivery]:
    """One subscription, and one delivery per keyword with the given column
    values.
    """
    webhook = Webhook(
        target_url="https://hooks.example.com/a",
        event=WebhookEvent.MESSAGE_CREATED,
        secret=secrets.token_urlsafe(32),
    )
    session.add(webhook)
    await session.flush()
    deliveries = {
        name: WebhookDelivery(
            webhook_id=webhook.id,
            event=WebhookEvent.MESSAGE_CREATED,
            payload={},
            **values,
        )
        for name, values in rows.items()
    }
    session.add_all(deliveries.values())
    await session.flush()
    return deliveries


async def test_only_pending_live_rows_untouched_since_the_cutoff_are_claimed(
    session: AsyncSession,
) -> None:
    deliveries = await add_deliveries(
        session,
        lost={"updated_at": HOURS_AGO},
        waiting={},  # its task may still come
        delivered={
            "updated_at": HOURS_AGO,
            "status": DeliveryStatus.DELIVERED,
            "delivered_at": HOURS_AGO,
        },
        failed={"updated_at": HOURS_AGO, "status": DeliveryStatus.FAILED},
        deleted={"updated_at": HOURS_AGO, "deleted_at": HOURS_AGO},
    )

    claimed = await WebhookDeliveriesTable(session).claim_lost(
        untouched_since=datetime.now(UTC) - timedelta(hours=1)
    )

    assert claimed == [deliveries["lost"].id]


async def test_a_claimed_row_is_touched_so_the_next_sweep_leaves_it(
    session: AsyncSession,
) -> None:
    await add_deliveries(session, lost={"updated_at": HOURS_AGO})
    table = WebhookDeliveriesTable(session)
    cutoff = datetime.now(UTC) - timedelta(hours=1)

    assert len(await table.claim_lost(cutoff)) == 1
    assert await table.claim_lost(cutoff) == []


async def test_the_longest_untouched_rows_are_claimed_first_up_to_the_limit(
    session: AsyncSession,
) -> None:
    deliveries = await add_deliveries(
        session,
        older={"updated_at": HOURS_AGO - timedelta(hours=1)},
        old={"updated_at": HOURS_AGO},
        oldest={"updated_at": HOURS_AGO - timedelta(hours=2)},
    )

    claimed = await WebhookDeliveriesTable(session).claim_lost(
        datetime.now(UTC), limit=2
    )

    # RETURNING has no order
    assert set(claimed) == {
        deliveries["oldest"].id,
        deliveries["older"].id,
    }
