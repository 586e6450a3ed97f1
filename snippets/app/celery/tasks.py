"""Celery tasks. Each takes ids, loads what it needs, and is safe to run
twice.
"""

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import httpx
from celery import Task
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.api.messaging.service import (
    purge_deleted_messages,
    purge_expired_idempotency_keys,
)
from app.base.owned_table import EVERY_OWNER
from app.celery_app import (
    DELIVER_WEBHOOK_TASK,
    PURGE_IDEMPOTENCY_KEYS_TASK,
    PURGE_SOFT_DELETED_TASK,
    REQUEUE_LOST_DELIVERIES_TASK,
    celery_app,
)
from app.core.config import RETRY_CAP_SECONDS, Settings, get_settings
from app.core.egress import (
    CheckedTarget,
    ForbiddenTargetError,
    public_addresses,
)
from app.core.webhook_signature import sign
from app.db.database import server_timeouts
from app.db.webhook.table import WebhooksTable
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery
from app.db.webhook_delivery.table import WebhookDeliveriesTable


# --8<-- [start:task_session]
@asynccontextmanager
async def task_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on an engine made for one task run, disposed before its event
    loop closes.

    asyncpg connections belong to the loop that opened them; `asyncio.run`
    makes a new loop for every task, so a pooled connection from an earlier run
    would fail here ("attached to a different loop"). `NullPool` also closes
    each connection as soon as a transaction ends. The server's timeouts are
    the API's: Celery's time limits stop this process, not its statement.
    """
    engine = create_async_engine(
        settings.sqlalchemy_database_url,
        poolclass=NullPool,
        connect_args={"server_settings": server_timeouts(settings)},
    )
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
    finally:
        await engine.dispose()


# --8<-- [end:task_session]


# --8<-- [start:deliver_webhook_task]
class Outcome(StrEnum):
    """What one run of the delivery task did."""

    DELIVERED = "delivered"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"


@celery_app.task(name=DELIVER_WEBHOOK_TASK, bind=True, max_retries=None)
def deliver_webhook(self: Task[[str], str], delivery_id: str) -> str:
    """Send one delivery; on a 5xx, 429 or network error retry later, up to
    `webhook_max_attempts`.
    """
    return asyncio.run(deliver(self, uuid.UUID(delivery_id)))


async def deliver(task: Task[[str], str], delivery_id: uuid.UUID) -> str:
    """The task's body, on the event loop `asyncio.run` made for this run.

    The budget is the row's `attempts`, not Celery's `request.retries`: a task
    the sweep sends again starts at zero retries, but the delivery keeps the
    attempts it already used.
    """
    settings = get_settings()
    outcome, attempts = await attempt_delivery(settings, delivery_id)
    if outcome is Outcome.RETRY:
        raise task.retry(
            countdown=backoff_seconds(
                attempts - 1, settings.webhook_retry_base_seconds
            )
        )
    return outcome.value


def backoff_seconds(retries: int, base: float) -> float:
    """Exponential backoff with full jitter, so failed deliveries don't return
    in lockstep.
    """
    ceiling = min(RETRY_CAP_SECONDS, base * 2**retries)
    return random.uniform(0, ceiling)  # noqa: S311 (timing, not secrets)


# --8<-- [end:deliver_webhook_task]


# --8<-- [start:attempt_delivery]
async def attempt_delivery(
    settings: Settings, delivery_id: uuid.UUID
) -> tuple[Outcome, int]:
    """Load, count, send and record one attempt; return the outcome and the
    attempts made so far.

    No transaction stays open across the HTTP call.
    """
    async with task_session(settings) as session:
        deliveries = WebhookDeliveriesTable(session)
        async with session.begin():
            delivery = await deliveries.first_or_default(delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                # unknown, or settled by an earlier run of this same task
                return (
                    Outcome.SKIPPED,
                    0,
                )
            webhook = await WebhooksTable(
                session, EVERY_OWNER
            ).first_or_default(delivery.webhook_id)
            # deleted or paused since the event
            if webhook is None or not webhook.is_active:
                await deliveries.record_outcome(
                    delivery.id, DeliveryStatus.SKIPPED, delivery.last_error
                )
                return Outcome.SKIPPED, delivery.attempts
            # Counted before the POST: a run that never records its answer
            # (killed, stopped by a time limit) still uses up the budget, so
            # the sweep cannot send it again forever.
            attempts = await deliveries.count_attempt(
                delivery.id, settings.webhook_max_attempts
            )
            # none left, e.g. the maximum was lowered meanwhile
            if attempts is None:
                # Guarded like any outcome: another run may have delivered it
                # since the read above.
                failed = await deliveries.record_outcome(
                    delivery.id, DeliveryStatus.FAILED, delivery.last_error
                )
                return (
                    Outcome.FAILED if failed else Outcome.SKIPPED,
                    delivery.attempts,
                )

        error, retryable = await post_signed(
            webhook.target_url, webhook.secret, delivery, settings
        )
        if error is None:
            outcome, status = Outcome.DELIVERED, DeliveryStatus.DELIVERED
        elif retryable and attempts < settings.webhook_max_attempts:
            # the error is recorded; the row stays pending
            outcome, status = (
                Outcome.RETRY,
                DeliveryStatus.PENDING,
            )
        else:
            outcome, status = Outcome.FAILED, DeliveryStatus.FAILED

        async with session.begin():
            recorded = await deliveries.record_outcome(
                delivery.id, status, error
            )
    # skipped: another run settled it meanwhile
    return (
        outcome if recorded else Outcome.SKIPPED,
        attempts,
    )


async def post_signed(
    url: str, secret: str, delivery: WebhookDelivery, settings: Settings
) -> tuple[str | None, bool]:
    """POST the event; return `(error, retryable)`, with `error` None on a 2xx
    answer.
    """
    body = json.dumps(
        {
            "id": str(delivery.id),
            "event": delivery.event,
            "data": delivery.payload,
        },
        separators=(",", ":"),
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "Webhook-Id": str(delivery.id),
        # the same on every retry: receivers drop repeats
        "Idempotency-Key": str(delivery.id),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": sign(secret, str(delivery.id), timestamp, body),
    }
    try:
        target = await public_addresses(
            url, settings.webhook_allowed_private_networks
        )
        response = await post_to_checked_address(
            target, body, headers, settings.webhook_timeout_seconds
        )
    except ForbiddenTargetError as error:
        # the subscriber must change the URL; retrying cannot help
        return (
            f"refused: {error}",
            False,
        )
    # timeouts, unresolvable names and unreadable answers included
    except httpx.HTTPError as error:
        return type(error).__name__, True
    if response.is_success:
        return None, False
    return (
        f"HTTP {response.status_code}",
        response.status_code >= 500 or response.status_code == 429,
    )


async def post_to_checked_address(
    target: CheckedTarget,
    body: bytes,
    headers: dict[str, str],
    time_limit_seconds: float,
) -> httpx.Response:
    """POST to the first of the checked addresses that accepts a connection;
    never to the name.
    """
    # a redirect would send the POST to an address nobody checked
    async with httpx.AsyncClient(
        timeout=time_limit_seconds, follow_redirects=False
    ) as client:
        for address in target.addresses[:-1]:
            url, host, extensions = target.pinned(address)
            try:
                return await client.post(
                    url,
                    content=body,
                    headers=headers | host,
                    extensions=extensions,
                )
            except httpx.ConnectError:
                # e.g. an IPv6 answer on a host reachable over IPv4 only
                continue
        url, host, extensions = target.pinned(target.addresses[-1])
        return await client.post(
            url, content=body, headers=headers | host, extensions=extensions
        )


# --8<-- [end:attempt_delivery]


# --8<-- [start:purge_task]
@celery_app.task(name=PURGE_SOFT_DELETED_TASK)
def purge_soft_deleted_messages() -> int:
    """Nightly (see `beat_schedule`): remove messages soft-deleted longer ago
    than the grace period.
    """
    settings = get_settings()

    async def purge() -> int:
        async with task_session(settings) as session:
            return await purge_deleted_messages(
                session,
                older_than=timedelta(
                    days=settings.purge_soft_deleted_after_days
                ),
            )

    return asyncio.run(purge())


# --8<-- [end:purge_task]


# --8<-- [start:purge_idempotency_keys_task]
@celery_app.task(name=PURGE_IDEMPOTENCY_KEYS_TASK)
def purge_idempotency_keys() -> int:
    """Hourly (see `beat_schedule`): remove the idempotency keys past their
    expiry.
    """
    settings = get_settings()

    async def purge() -> int:
        async with task_session(settings) as session:
            return await purge_expired_idempotency_keys(session)

    return asyncio.run(purge())


# --8<-- [end:purge_idempotency_keys_task]


# --8<-- [start:requeue_lost_task]
def lost_after(settings: Settings) -> timedelta:
    """How long a pending delivery can wait for a live task: the longest retry
    countdown, plus Redis handing a dead worker's task on (up to twice the
    visibility timeout), plus one run."""
    waits = (
        RETRY_CAP_SECONDS
        + 2 * settings.celery_visibility_timeout_seconds
        + settings.celery_task_time_limit_seconds
    )
    return timedelta(seconds=waits)


@celery_app.task(name=REQUEUE_LOST_DELIVERIES_TASK)
def requeue_lost_deliveries() -> int:
    """Every few minutes (see `beat_schedule`): enqueue again the deliveries
    whose task is gone.

    A task is lost when enqueueing failed after the commit, or when the
    broker's Redis lost its data. The row is still `pending`, so it is sent
    again; a task that was only late finds it settled, or sends the same
    `Idempotency-Key` a second time.
    """
    settings = get_settings()

    async def claim() -> list[uuid.UUID]:
        async with task_session(settings) as session, session.begin():
            untouched_since = datetime.now(UTC) - lost_after(settings)
            return await WebhookDeliveriesTable(session).claim_lost(
                untouched_since
            )

    claimed = asyncio.run(claim())  # committed before anything is enqueued
    for delivery_id in claimed:
        celery_app.send_task(DELIVER_WEBHOOK_TASK, args=[str(delivery_id)])
    return len(claimed)


# --8<-- [end:requeue_lost_task]
