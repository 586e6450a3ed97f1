"""`SKIP LOCKED` in `claim_lost`, with two sweeps on two connections: each
takes rows the other has not locked.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlmodel import col

from app.db.database import create_session_factory
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery
from app.db.webhook_delivery.table import WebhookDeliveriesTable

LONG_AGO = datetime(1999, 1, 1, tzinfo=UTC)
CUTOFF = LONG_AGO + timedelta(days=1)  # no other test's rows are this old


@pytest_asyncio.fixture
async def sweeps(
    engine: AsyncEngine,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Four committed deliveries lost long ago, and production sessions for two
    sweeps; removed afterwards.
    """
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        webhook = Webhook(
            target_url="https://hooks.example.com/sweeps",
            event=WebhookEvent.MESSAGE_CREATED,
            secret=secrets.token_urlsafe(32),
        )
        session.add(webhook)
        await session.flush()
        session.add_all(
            WebhookDelivery(
                webhook_id=webhook.id,
                event=WebhookEvent.MESSAGE_CREATED,
                payload={},
                updated_at=LONG_AGO + timedelta(hours=hour),
            )
            for hour in range(4)
        )
    yield factory
    async with factory() as session, session.begin():
        await session.execute(
            delete(WebhookDelivery).where(
                col(WebhookDelivery.webhook_id) == webhook.id
            )
        )
        await session.execute(
            delete(Webhook).where(col(Webhook.id) == webhook.id)
        )


# --8<-- [start:test_skip_locked]
async def test_two_sweeps_at_once_claim_different_rows_without_waiting(
    sweeps: async_sessionmaker[AsyncSession],
) -> None:
    async with sweeps() as first, sweeps() as second:
        await first.begin()
        await second.begin()
        # locked until commit
        claimed_by_first = await WebhookDeliveriesTable(first).claim_lost(
            CUTOFF, limit=2
        )

        claimed_by_second = await asyncio.wait_for(
            WebhookDeliveriesTable(second).claim_lost(CUTOFF), timeout=5
        )

        assert (len(claimed_by_first), len(claimed_by_second)) == (2, 2)
        # no row claimed twice
        assert not set(claimed_by_first) & set(claimed_by_second)
        await first.commit()
        await second.commit()


# --8<-- [end:test_skip_locked]


async def test_without_skip_locked_the_second_sweep_waits_for_the_first(
    sweeps: async_sessionmaker[AsyncSession],
) -> None:
    lost = (
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
            col(WebhookDelivery.updated_at) < CUTOFF,
        )
        .order_by(col(WebhookDelivery.updated_at))
        .limit(2)
        .with_for_update()  # no skip_locked
    )
    claim = (
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(lost.scalar_subquery()))
        .values(attempts=1)
    )
    async with sweeps() as first, sweeps() as second:
        await first.begin()
        await second.begin()
        await first.execute(claim)
        waiting = asyncio.create_task(second.execute(claim))
        await asyncio.sleep(0.3)

        # it queues behind the first sweep's row locks instead of taking other
        # rows
        assert not waiting.done()
        await first.commit()
        await waiting
        await second.rollback()
