"""Webhook delivery through a real Celery worker, a real Redis and a real HTTPS
receiver.
"""

import asyncio
import copy
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest
import trustme
import uvicorn
from celery.beat import ScheduleEntry
from redis.asyncio import Redis
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from app.api.messaging.models import MessageCreate, MessageUpdate
from app.api.messaging.service import MessagingService
from app.base.owned_table import EVERY_OWNER

# Task objects are lazy proxies: importing one into a test module lets pytest's
# collection evaluate it, which configures Celery before the test settings
# exist. Use names instead.
from app.celery.tasks import (
    Outcome,
    attempt_delivery,
    backoff_seconds,
    lost_after,
    post_to_checked_address,
)
from app.celery_app import (
    DELIVER_WEBHOOK_TASK,
    PURGE_SOFT_DELETED_TASK,
    REQUEUE_LOST_DELIVERIES_TASK,
    celery_app,
    celery_config,
)
from app.core.config import Settings
from app.core.egress import CheckedTarget
from app.core.errors import ConflictError
from app.core.webhook_signature import is_valid_signature
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery
from app.db.webhook_delivery.table import WebhookDeliveriesTable
from tests.principals import OWNER

SECRET = "s" * 43


# --8<-- [start:webhook_receiver]
@dataclass
class WebhookReceiver:
    """A subscriber's endpoint on https://127.0.0.1 (also named `localhost`),
    answering with scripted status codes.
    """

    url: str
    # answers to give, in order; then 200
    statuses: list[int] = field(default_factory=list)
    hang_first: bool = (
        False  # never answer the first request (for killing a worker mid-task)
    )
    answer_together: int = (
        0  # answer no request before this many have arrived (overlapping runs)
    )
    arrived_together: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    # by Idempotency-Key: what took effect
    effective: dict[str, bytes] = field(default_factory=dict)
    # ends a hanging answer
    released: threading.Event = field(default_factory=threading.Event)
    broken_encoding: bool = (
        False  # answer with a body that is not the gzip its header announces
    )
    # a Location header on every answer, when set (redirects)
    location: str = ""

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Any,  # noqa: ANN401 (ASGI)
        send: Any,  # noqa: ANN401 (ASGI)
    ) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {
            key.decode(): value.decode() for key, value in scope["headers"]
        }
        self.requests.append((headers, body))
        if self.hang_first and len(self.requests) == 1:
            # no answer until the test ends
            await asyncio.to_thread(self.released.wait)
        if len(self.requests) >= self.answer_together:
            self.arrived_together.set()
        await self.arrived_together.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            # a repeat changes nothing
            self.effective.setdefault(headers["idempotency-key"], body)
        response_headers = (
            [(b"content-encoding", b"gzip")] if self.broken_encoding else []
        )
        if self.location:
            response_headers.append((b"location", self.location.encode()))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": response_headers,
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": b"not gzip" if self.broken_encoding else b"",
            }
        )


@pytest.fixture(scope="session")
def tls_ca_file(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[trustme.CA, Path]]:
    """A throwaway certificate authority; httpx trusts it through
    `SSL_CERT_FILE`.
    """
    authority = trustme.CA()
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(ca_file))
        yield authority, ca_file


@pytest.fixture
def webhook_receiver(
    tls_ca_file: tuple[trustme.CA, Path], tmp_path: Path
) -> Iterator[WebhookReceiver]:
    """The receiver, served by a real uvicorn over TLS in a background
    thread.
    """
    authority, _ = tls_ca_file
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    certificate.private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = WebhookReceiver(url=f"https://127.0.0.1:{port}/hooks")
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(tmp_path / "server.pem"),
        # leave the process's logging alone: other tests assert on it
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield receiver
    receiver.released.set()
    server.should_exit = True
    thread.join(timeout=10)


# --8<-- [end:webhook_receiver]


async def subscribe(
    session: AsyncSession,
    url: str,
    event: WebhookEvent = WebhookEvent.MESSAGE_CREATED,
) -> Webhook:
    async with session.begin():
        webhook = Webhook(
            target_url=url,
            event=event,
            secret=SECRET,
            is_active=True,
            owner=OWNER,
        )
        session.add(webhook)
    return webhook


async def send_message(session: AsyncSession, redis: Redis) -> None:
    data = MessageCreate(
        channel=Channel.EMAIL,
        recipient="ada@example.com",
        body="Hello",
        client_ref="ref-1",
    )
    await MessagingService(session, redis, OWNER).create(data)


async def settled_delivery(
    session: AsyncSession, within: float = 15
) -> WebhookDelivery:
    """Wait until the only delivery has left `pending`, reading committed state
    each time.
    """
    return await eventually(
        lambda: only_delivery(session, settled=True), within
    )


async def only_delivery(
    session: AsyncSession, *, settled: bool
) -> WebhookDelivery | None:
    async with session.begin():
        deliveries = (await WebhookDeliveriesTable(session).all()).items
    session.expunge_all()
    assert len(deliveries) <= 1
    if deliveries and (
        deliveries[0].status != DeliveryStatus.PENDING or not settled
    ):
        return deliveries[0]
    return None


async def eventually[T](
    probe: Callable[[], Awaitable[T | None]], within: float
) -> T:
    """Poll `probe` until it returns something, for at most `within`
    seconds.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (value := await probe()) is not None:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing happened within {within} s")


# --8<-- [start:test_delivered_once]
async def test_delivered_once_with_a_valid_signature(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
) -> None:
    await subscribe(committed_session, webhook_receiver.url)

    await send_message(committed_session, redis)  # commits, then enqueues

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.DELIVERED,
        1,
        None,
    )
    [(headers, body)] = webhook_receiver.requests
    assert headers["idempotency-key"] == str(delivery.id)
    assert is_valid_signature(
        SECRET,
        headers["webhook-id"],
        int(headers["webhook-timestamp"]),
        body,
        headers["webhook-signature"],
        now=int(time.time()),
    )
    assert json.loads(body)["data"]["client_ref"] == "ref-1"


# --8<-- [end:test_delivered_once]


# --8<-- [start:test_retried_then_delivered]
async def test_retried_with_backoff_then_delivered_exactly_once(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # keep the backoff short in tests
    monkeypatch.setattr(settings, "webhook_retry_base_seconds", 0.05)
    webhook_receiver.statuses = [500, 503]  # fails twice, then answers 200
    await subscribe(committed_session, webhook_receiver.url)

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts) == (
        DeliveryStatus.DELIVERED,
        3,
    )
    keys = {
        headers["idempotency-key"] for headers, _ in webhook_receiver.requests
    }
    assert len(webhook_receiver.requests) == 3
    assert keys == {str(delivery.id)}  # one key across retries ...
    # ... so one effective delivery
    assert len(webhook_receiver.effective) == 1


# --8<-- [end:test_retried_then_delivered]


async def test_marked_failed_after_the_last_attempt(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "webhook_retry_base_seconds", 0.05)
    monkeypatch.setattr(settings, "webhook_max_attempts", 3)
    webhook_receiver.statuses = [500] * 10
    await subscribe(committed_session, webhook_receiver.url)

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        3,
        "HTTP 500",
    )
    assert len(webhook_receiver.requests) == 3
    # Nothing reads a task's result, so no retry left a Redis connection
    # subscribed to one.
    assert await redis.pubsub_channels("celery-task-meta-*") == []


async def test_a_client_error_is_not_retried(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
) -> None:
    # the subscriber says the endpoint is gone
    webhook_receiver.statuses = [410]
    await subscribe(committed_session, webhook_receiver.url)

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        1,
        "HTTP 410",
    )


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_not_followed(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    status: int,
) -> None:
    # 307 and 308 repeat the POST, body and signature included, at the new
    # address; the others turn it into a GET. Here that address is the
    # receiver itself, so a followed redirect would arrive as a second request
    webhook_receiver.statuses = [status]
    webhook_receiver.location = f"{webhook_receiver.url}/internal"
    await subscribe(committed_session, webhook_receiver.url)

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        1,
        f"HTTP {status}",
    )
    assert len(webhook_receiver.requests) == 1


async def test_an_unreachable_receiver_is_retried(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "webhook_retry_base_seconds", 0.05)
    monkeypatch.setattr(settings, "webhook_max_attempts", 2)
    # nothing listens on port 1
    await subscribe(committed_session, "https://127.0.0.1:1/hooks")

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        2,
        "ConnectError",
    )


# --8<-- [start:test_private_address_refused]
async def test_a_private_address_is_refused_and_not_retried(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as in production
    monkeypatch.setattr(settings, "webhook_allowed_private_networks", [])
    await subscribe(
        committed_session,
        webhook_receiver.url.replace("127.0.0.1", "localhost"),
    )

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("refused: localhost resolves to ")
    assert webhook_receiver.requests == []  # nothing left the worker


# --8<-- [end:test_private_address_refused]


async def test_a_host_name_is_delivered_to_the_checked_address_with_its_name(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
) -> None:
    """The worker connects to the address it checked; TLS verifies the
    certificate for the name.
    """
    named_url = webhook_receiver.url.replace("127.0.0.1", "localhost")
    await subscribe(committed_session, named_url)

    await send_message(committed_session, redis)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.last_error) == (
        DeliveryStatus.DELIVERED,
        None,
    )
    [(headers, _)] = webhook_receiver.requests
    assert headers["host"] == httpx.URL(named_url).netloc.decode()


async def test_the_next_checked_address_is_tried_when_one_refuses_the_connection(
    webhook_receiver: WebhookReceiver,
) -> None:
    """The receiver listens on 127.0.0.1 only, so 127.0.0.2 and .3 refuse; the
    delivery goes on to the next.

    The accepting address is in the middle: the one after it is never tried,
    and the last one is not the only one tried.
    """
    url = webhook_receiver.url.replace("127.0.0.1", "localhost")
    addresses = [
        ipaddress.ip_address(address)
        for address in ("127.0.0.2", "127.0.0.1", "127.0.0.3")
    ]
    response = await post_to_checked_address(
        CheckedTarget(httpx.URL(url), addresses),
        b"{}",
        {"Idempotency-Key": "k"},
        time_limit_seconds=5,
    )
    assert response.status_code == 200
    assert len(webhook_receiver.requests) == 1


# --8<-- [start:test_deleted_subscription]
async def test_a_deleted_subscription_gets_nothing(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={"id": "x"}
        )
        committed_session.add(delivery)
        # deleted after the event, before the worker ran
        webhook.deleted_at = datetime.now(UTC)

    # the outcome is in the row
    celery_app.send_task(DELIVER_WEBHOOK_TASK, args=[str(delivery.id)])

    settled = await settled_delivery(committed_session)
    assert (settled.status, settled.attempts) == (DeliveryStatus.SKIPPED, 0)
    assert webhook_receiver.requests == []


# --8<-- [end:test_deleted_subscription]


async def test_a_rolled_back_change_enqueues_nothing(
    committed_session: AsyncSession,
    redis: Redis,
    webhook_receiver: WebhookReceiver,
) -> None:
    await subscribe(committed_session, webhook_receiver.url)
    duplicate = MessageCreate(
        channel=Channel.SMS,
        recipient="+15550100",
        body="Hi",
        client_ref="same",
    )

    with pytest.raises(ConflictError):
        await MessagingService(committed_session, redis, OWNER).create_batch(
            [duplicate, duplicate]
        )

    # no task for a delivery row that was never committed
    assert await redis.llen("celery") == 0
    assert await only_delivery(committed_session, settled=False) is None


async def test_updates_and_deletes_enqueue_their_events(
    committed_session: AsyncSession, redis: Redis
) -> None:
    for event in (WebhookEvent.MESSAGE_UPDATED, WebhookEvent.MESSAGE_DELETED):
        await subscribe(
            committed_session,
            f"https://hooks.example.com/{event.value}",
            event,
        )
    service = MessagingService(committed_session, redis, OWNER)
    created = await service.create(
        MessageCreate(
            channel=Channel.SMS,
            recipient="+15550100",
            body="Hi",
            client_ref="e",
        )
    )

    await service.update(
        created.id, MessageUpdate(body="Hello"), versions=None
    )
    # no worker runs here, so the task waits in the queue
    assert await redis.llen("celery") == 1

    await service.delete(created.id)
    assert await redis.llen("celery") == 2


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    assert all(
        0 <= backoff_seconds(retries, 5.0) <= 5.0 * 2**retries
        for retries in range(6)
    )
    assert max(backoff_seconds(30, 5.0) for _ in range(50)) <= 3600


# --8<-- [start:test_purge_task]
async def test_nightly_purge_removes_long_deleted_messages(
    committed_session: AsyncSession, celery_worker: None
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=40)
    async with committed_session.begin():
        committed_session.add_all(
            [
                Message(
                    channel=Channel.SMS,
                    recipient="+1",
                    body="old",
                    client_ref="old",
                    deleted_at=long_ago,
                ),
                Message(
                    channel=Channel.SMS,
                    recipient="+1",
                    body="new",
                    client_ref="new",
                ),
            ]
        )

    # the outcome is in the table
    celery_app.send_task(PURGE_SOFT_DELETED_TASK)

    async def remaining() -> list[str] | None:
        async with committed_session.begin():
            # the purge acts for every owner
            messages = MessagesTable(committed_session, EVERY_OWNER)
            refs = [
                row.client_ref for row in (await messages.all(limit=10)).items
            ]
            total = await messages.all_count(include_deleted=True)
        return refs if total == 1 else None

    assert await eventually(remaining, within=30) == ["new"]
    assert (
        celery_app.conf.beat_schedule["purge-soft-deleted-messages"]["task"]
        == PURGE_SOFT_DELETED_TASK
    )


# --8<-- [end:test_purge_task]


def first_purge_after_beat_starts(started: datetime) -> datetime:
    """When a beat that starts at `started` with no schedule file (a new
    container) first sends the purge.
    """
    entry = ScheduleEntry(
        name="purge",
        app=celery_app,
        last_run_at=started,
        **celery_app.conf.beat_schedule["purge-soft-deleted-messages"],
    )
    assert entry.schedule is not None
    schedule = copy.copy(entry.schedule)
    # The stubs misspell it `nowfunc`.
    schedule.nowfun = lambda: started  # type: ignore[attr-defined]
    return started + schedule.remaining_estimate(started)


def test_the_purge_runs_at_the_same_time_of_night_whenever_beat_started(
    settings: Settings,
) -> None:
    """Beat keeps its schedule file in its container, so every redeploy starts
    it without state.
    """
    started = [datetime(2026, 12, 1, hour, 17, tzinfo=UTC) for hour in (1, 13)]

    first_runs = [first_purge_after_beat_starts(start) for start in started]

    # a time of day, not a day after each start
    assert first_runs[0].time() == first_runs[1].time()
    assert all(
        timedelta(0) < run - start <= timedelta(days=1)
        for run, start in zip(first_runs, started, strict=True)
    )


# --8<-- [start:test_lost_delivery_requeued]
async def test_a_lost_delivery_is_sent_by_the_sweep(
    committed_session: AsyncSession,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
) -> None:
    webhook = await subscribe(committed_session, webhook_receiver.url)
    long_ago = datetime.now(UTC) - lost_after(settings) - timedelta(minutes=1)
    # committed, but no task ever reached the broker
    async with committed_session.begin():
        lost = WebhookDelivery(
            webhook_id=webhook.id,
            event=webhook.event,
            payload={},
            created_at=long_ago,
            updated_at=long_ago,
        )
        # its task may come
        waiting = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={}
        )
        committed_session.add_all([lost, waiting])

    # what beat sends every 10 minutes
    celery_app.send_task(REQUEUE_LOST_DELIVERIES_TASK)

    async def statuses() -> dict[uuid.UUID, DeliveryStatus] | None:
        async with committed_session.begin():
            rows = (
                await WebhookDeliveriesTable(committed_session).all()
            ).items
        committed_session.expunge_all()
        found = {row.id: row.status for row in rows}
        return found if found[lost.id] == DeliveryStatus.DELIVERED else None

    assert await eventually(statuses, within=15) == {
        lost.id: DeliveryStatus.DELIVERED,
        waiting.id: DeliveryStatus.PENDING,  # not lost yet: left alone
    }
    [(headers, _)] = webhook_receiver.requests
    assert headers["idempotency-key"] == str(lost.id)
    assert (
        beat_schedule_task("requeue-lost-webhook-deliveries")
        == REQUEUE_LOST_DELIVERIES_TASK
    )


# --8<-- [end:test_lost_delivery_requeued]


async def test_the_sweep_returns_how_many_deliveries_it_sent_again(
    committed_session: AsyncSession, redis: Redis, settings: Settings
) -> None:
    """The count is what the worker logs as the task's result; no worker runs
    here, so the tasks wait in Redis.
    """
    webhook = await subscribe(
        committed_session, "https://hooks.example.com/lost"
    )
    long_ago = datetime.now(UTC) - lost_after(settings) - timedelta(minutes=1)
    async with committed_session.begin():
        committed_session.add_all(
            [
                WebhookDelivery(
                    webhook_id=webhook.id,
                    event=webhook.event,
                    payload={},
                    created_at=long_ago,
                    updated_at=long_ago,
                )
                for _ in range(2)
            ]
            # not lost yet
            + [
                WebhookDelivery(
                    webhook_id=webhook.id, event=webhook.event, payload={}
                )
            ]
        )
    sweep = celery_app.tasks[REQUEUE_LOST_DELIVERIES_TASK]

    # the task's own body, outside the event loop it runs
    sent_again = await asyncio.to_thread(sweep)

    assert sent_again == 2
    assert await redis.llen("celery") == 2


# --8<-- [start:test_requeued_delivery_keeps_its_budget]
async def test_a_requeued_delivery_keeps_the_attempts_it_used(
    committed_session: AsyncSession,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "webhook_retry_base_seconds", 0.05)
    monkeypatch.setattr(settings, "webhook_max_attempts", 3)
    webhook_receiver.statuses = [500] * 10
    webhook = await subscribe(committed_session, webhook_receiver.url)
    long_ago = datetime.now(UTC) - lost_after(settings) - timedelta(minutes=1)
    # two attempts made, then its retry task was lost
    async with committed_session.begin():
        lost = WebhookDelivery(
            webhook_id=webhook.id,
            event=webhook.event,
            payload={},
            attempts=2,
            last_error="HTTP 500",
            created_at=long_ago,
            updated_at=long_ago,
        )
        committed_session.add(lost)

    # the sweep sends a new task, with no retries counted
    celery_app.send_task(REQUEUE_LOST_DELIVERIES_TASK)

    delivery = await settled_delivery(committed_session)
    # one attempt left, not three more
    assert (delivery.status, delivery.attempts) == (
        DeliveryStatus.FAILED,
        3,
    )
    assert len(webhook_receiver.requests) == 1


# --8<-- [end:test_requeued_delivery_keeps_its_budget]


async def test_a_requeued_delivery_backs_off_from_the_attempts_it_used(
    committed_session: AsyncSession,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "webhook_retry_base_seconds", 0.05)
    monkeypatch.setattr(settings, "webhook_max_attempts", 6)
    webhook_receiver.statuses = [500] * 10
    backoffs: list[int] = []

    def recorded_backoff(retries: int, base: float) -> float:
        backoffs.append(retries)
        return backoff_seconds(retries, base)

    monkeypatch.setattr("app.celery.tasks.backoff_seconds", recorded_backoff)
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={}, attempts=3
        )
        committed_session.add(delivery)

    # as the sweep does: no retries counted
    celery_app.send_task(DELIVER_WEBHOOK_TASK, args=[str(delivery.id)])

    settled = await settled_delivery(committed_session)
    assert (settled.status, settled.attempts) == (DeliveryStatus.FAILED, 6)
    assert (
        backoffs == [3, 4]
        # the countdowns after attempts 4 and 5, not after Celery's retries 0
        # and 1
    )


# --8<-- [start:test_overlapping_runs_count_every_attempt]
async def test_two_overlapping_runs_of_one_delivery_count_both_attempts(
    committed_session: AsyncSession,
    engine: AsyncEngine,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
) -> None:
    webhook_receiver.statuses = [500, 500]
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            event=webhook.event,
            payload={},
            attempts=2,
        )
        committed_session.add(delivery)
    # read the row back from the database, not this session's copy
    committed_session.expunge_all()

    # Each run has its own engine and session, as two workers would. A
    # third connection locks the row until both runs have read `attempts`
    # and wait to count theirs.
    async with engine.connect() as holder, holder.begin():
        await holder.execute(
            select(col(WebhookDelivery.id))
            .where(col(WebhookDelivery.id) == delivery.id)
            .with_for_update()
        )
        runs = asyncio.gather(
            attempt_delivery(settings, delivery.id),
            attempt_delivery(settings, delivery.id),
        )
        await eventually(
            lambda: runs_waiting_for_a_lock(engine, 2),
            within=10,
        )
    outcomes = await runs

    assert sorted(attempts for _, attempts in outcomes) == [3, 4]
    stored = await only_delivery(committed_session, settled=False)
    assert stored is not None
    assert stored.attempts == 4


# --8<-- [end:test_overlapping_runs_count_every_attempt]


async def runs_waiting_for_a_lock(
    engine: AsyncEngine, count: int
) -> bool | None:
    """True once `count` sessions on this database wait for a lock."""
    # a new transaction: pg_stat_activity is read once per transaction
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                " current_database() AND wait_event_type = 'Lock'"
            )
        )
    return True if waiting == count else None


@pytest.mark.parametrize(
    ("statuses", "outcomes"),
    [
        ([200, 409], ["skipped", "delivered"]),
        ([409, 200], ["delivered", "failed"]),
    ],
)
async def test_a_late_run_does_not_overwrite_a_delivered_outcome(
    committed_session: AsyncSession,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    statuses: list[int],
    outcomes: list[str],
) -> None:
    """Both runs read the row as pending; the first POST is held until the
    second run has recorded its answer.
    """
    webhook_receiver.statuses = (
        statuses  # the second request is answered first
    )
    webhook_receiver.hang_first = True
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={}
        )
        committed_session.add(delivery)
    # read the row back from the database, not this session's copy
    committed_session.expunge_all()

    first = asyncio.create_task(attempt_delivery(settings, delivery.id))
    await eventually(
        lambda: asyncio.sleep(0, webhook_receiver.requests or None), within=10
    )
    # a 409 answers a key the receiver already has
    second = await attempt_delivery(settings, delivery.id)
    webhook_receiver.released.set()
    late = await first

    assert [late[0].value, second[0].value] == outcomes
    stored = await only_delivery(committed_session, settled=True)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == (
        DeliveryStatus.DELIVERED,
        2,
        None,
    )


async def test_an_answer_httpx_cannot_read_counts_as_a_failed_attempt(
    committed_session: AsyncSession,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
) -> None:
    webhook_receiver.broken_encoding = (
        True  # httpx raises DecodingError, which is not a TransportError
    )
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={}
        )
        committed_session.add(delivery)
    committed_session.expunge_all()

    outcome = await attempt_delivery(settings, delivery.id)

    assert outcome == (Outcome.RETRY, 1)
    stored = await only_delivery(committed_session, settled=False)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == (
        DeliveryStatus.PENDING,
        1,
        "DecodingError",
    )


async def test_an_attempt_that_never_returns_is_counted(
    committed_session: AsyncSession,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
) -> None:
    """A run stopped mid-POST (a soft time limit cancels it like this, a hard
    one or a crash kills it).
    """
    webhook_receiver.hang_first = True
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={}
        )
        committed_session.add(delivery)
    committed_session.expunge_all()

    run = asyncio.create_task(attempt_delivery(settings, delivery.id))
    await eventually(
        lambda: asyncio.sleep(0, webhook_receiver.requests or None), within=10
    )
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    stored = await only_delivery(committed_session, settled=False)
    assert stored is not None
    # the sweep's next run has one less
    assert (stored.status, stored.attempts) == (
        DeliveryStatus.PENDING,
        1,
    )


async def test_a_delivery_out_of_attempts_is_failed_without_a_request(
    committed_session: AsyncSession,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
) -> None:
    webhook = await subscribe(committed_session, webhook_receiver.url)
    # e.g. WEBHOOK_MAX_ATTEMPTS was lowered while it waited
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            event=webhook.event,
            payload={},
            attempts=settings.webhook_max_attempts,
        )
        committed_session.add(delivery)

    # read the row back from the database, not this session's copy
    committed_session.expunge_all()
    outcome = await attempt_delivery(settings, delivery.id)

    assert outcome == (Outcome.FAILED, settings.webhook_max_attempts)
    stored = await only_delivery(committed_session, settled=True)
    assert stored is not None
    assert stored.status == DeliveryStatus.FAILED
    assert webhook_receiver.requests == []


@pytest.mark.parametrize(
    "paused", [False, True], ids=["out_of_attempts", "paused"]
)
async def test_a_run_with_nothing_to_send_does_not_overwrite_a_delivery_made_meanwhile(
    committed_session: AsyncSession,
    engine: AsyncEngine,
    settings: Settings,
    paused: bool,
) -> None:
    """The run reads the row as pending; another run's `delivered` commits
    before it writes `failed`/`skipped`.
    """
    # nothing is sent
    webhook = await subscribe(committed_session, "https://receiver.invalid/")
    async with committed_session.begin():
        webhook.is_active = not paused
        # the other run counted the last attempt
        attempts = 0 if paused else settings.webhook_max_attempts
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            event=webhook.event,
            payload={},
            attempts=attempts,
        )
        committed_session.add(delivery)
    # read the row back from the database, not this session's copy
    committed_session.expunge_all()

    # The other run records its 2xx and holds the row lock until this run waits
    # to write.
    async with engine.connect() as other, other.begin():
        await other.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == delivery.id)
            .values(
                status=DeliveryStatus.DELIVERED, delivered_at=datetime.now(UTC)
            )
        )
        run = asyncio.create_task(attempt_delivery(settings, delivery.id))
        await eventually(lambda: runs_waiting_for_a_lock(engine, 1), within=10)
    outcome = await run

    assert outcome == (Outcome.SKIPPED, attempts)
    stored = await only_delivery(committed_session, settled=True)
    assert stored is not None
    assert stored.status == DeliveryStatus.DELIVERED


# --8<-- [start:test_failed_enqueue_swept]
async def test_the_sweep_sends_what_a_failed_enqueue_dropped(
    committed_session: AsyncSession,
    redis: Redis,
    celery_worker: None,
    webhook_receiver: WebhookReceiver,
    settings: Settings,
    unreachable_broker: Callable[[], AbstractContextManager[None]],
) -> None:
    await subscribe(committed_session, webhook_receiver.url)
    with unreachable_broker():
        # committed; the task never reached the broker
        await send_message(committed_session, redis)

    # a worker that had the task would have run it by now
    await asyncio.sleep(1)
    assert webhook_receiver.requests == []
    long_ago = datetime.now(UTC) - lost_after(settings) - timedelta(minutes=1)
    # time passes until the sweep takes it for lost
    async with committed_session.begin():
        # it would stamp now() over the old time
        trigger = "webhook_deliveries_set_updated_at"
        await committed_session.execute(
            text(f"ALTER TABLE webhook_deliveries DISABLE TRIGGER {trigger}")
        )
        await committed_session.execute(
            update(WebhookDelivery).values(updated_at=long_ago)
        )
        await committed_session.execute(
            text(f"ALTER TABLE webhook_deliveries ENABLE TRIGGER {trigger}")
        )
    celery_app.send_task(REQUEUE_LOST_DELIVERIES_TASK)

    delivery = await settled_delivery(committed_session)
    assert (delivery.status, delivery.attempts) == (
        DeliveryStatus.DELIVERED,
        1,
    )
    [(headers, _)] = webhook_receiver.requests
    assert headers["idempotency-key"] == str(delivery.id)


# --8<-- [end:test_failed_enqueue_swept]


def beat_schedule_task(entry: str) -> str:
    """The task a `beat_schedule` entry sends."""
    task: str = celery_app.conf.beat_schedule[entry]["task"]
    return task


def start_worker_process(
    log: TextIO,
    pool: str = "solo",
    soft_time_limit: bool = True,
    visibility_timeout: int = 2,
) -> subprocess.Popen[bytes]:
    """A `celery worker` in its own process, configured as in production but
    for a short visibility timeout.

    Without `soft_time_limit`, tasks have no soft limit: the pool arms a task's
    hard limit only once its soft one has fired, so a hard limit shorter than
    the soft one would never fire.
    """
    # Redis hands an unacknowledged task to another worker after the visibility
    # timeout. `Settings` refuses one this short, so the configured app is
    # changed here, for this test's workers only.
    script = (
        "from app.celery_app import celery_app\nshort ="
        f" {{'visibility_timeout': {visibility_timeout},"
        " 'unacked_restore_interval':"
        " 2}\ncelery_app.conf.broker_transport_options ="
        " celery_app.conf.broker_transport_options |"
        " short\ncelery_app.conf.task_soft_time_limit ="
        f" celery_app.conf.task_soft_time_limit if {soft_time_limit} else"
        f" None\ncelery_app.worker_main(['worker', '--pool={pool}',"
        " '--concurrency=1', '--without-mingle', '--without-gossip'])\n"
    )
    environment = os.environ | {"LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env=environment,
        cwd=Path(__file__).parents[2],
        stderr=log,
    )


@pytest.fixture
def worker_log(tmp_path: Path) -> Iterator[TextIO]:
    """The file the worker processes write their stderr, that is their log,
    into.
    """
    with (tmp_path / "workers.log").open("w") as log:
        yield log


# --8<-- [start:test_worker_killed]
async def test_a_task_survives_its_worker_being_killed(
    committed_session: AsyncSession,
    redis: Redis,
    webhook_receiver: WebhookReceiver,
    worker_log: TextIO,
) -> None:
    webhook_receiver.hang_first = True  # the first POST never gets an answer
    await subscribe(committed_session, webhook_receiver.url)
    first_worker = start_worker_process(worker_log)
    try:
        await send_message(committed_session, redis)
        await eventually(
            lambda: asyncio.sleep(0, webhook_receiver.requests or None),
            within=90,
        )
        first_worker.send_signal(signal.SIGKILL)  # mid-task: no ack was sent
        first_worker.wait(timeout=10)

        second_worker = start_worker_process(worker_log)
        try:
            delivery = await settled_delivery(committed_session, within=90)
        finally:
            second_worker.terminate()
            second_worker.wait(timeout=30)
    finally:
        first_worker.kill()
        first_worker.wait(timeout=10)

    # the killed run's attempt counts
    assert (delivery.status, delivery.attempts) == (
        DeliveryStatus.DELIVERED,
        2,
    )
    assert [
        headers["idempotency-key"] for headers, _ in webhook_receiver.requests
    ] == [str(delivery.id)] * 2
    assert len(webhook_receiver.effective) == 1
    # The workers logged JSON (the receivers in app.celery_app). Celery's
    # warning about running as root, which only this test machine does, is a
    # Python warning printed as text: filtered out.
    written = await asyncio.to_thread(Path(worker_log.name).read_text)
    lines = [
        json.loads(line) for line in written.splitlines() if line[:1] == "{"
    ]
    # "Task ... received"
    assert "celery.worker.strategy" in {line["logger"] for line in lines}


# --8<-- [end:test_worker_killed]


async def test_a_task_stopped_by_the_hard_time_limit_is_acknowledged_not_requeued(
    committed_session: AsyncSession,
    redis: Redis,
    webhook_receiver: WebhookReceiver,
    worker_log: TextIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Celery marks it failed and acknowledges it
    (`task_acks_on_failure_or_timeout`); only the sweep sends it again.
    """
    webhook_receiver.hang_first = True  # the first POST never gets an answer
    webhook = await subscribe(committed_session, webhook_receiver.url)
    async with committed_session.begin():
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event=webhook.event, payload={}
        )
        committed_session.add(delivery)
    # read the row back from the database, not this session's copy
    committed_session.expunge_all()
    # The POST's own timeout must not end the run first: that would be a failed
    # attempt and a retry.
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "60")
    # Longer than the hard limit: Redis would otherwise hand the still-running
    # task on before the kill.
    visibility_timeout = 30
    worker = start_worker_process(
        worker_log,
        pool="prefork",
        soft_time_limit=False,
        visibility_timeout=visibility_timeout,
    )
    try:
        # A 15 s hard limit in the message, which overrides the configured one,
        # and no soft one. It leaves a loaded machine time to start the run and
        # send the POST before the kill.
        celery_app.send_task(
            DELIVER_WEBHOOK_TASK,
            args=[str(delivery.id)],
            time_limit=15,
            soft_time_limit=None,
        )
        await eventually(
            lambda: asyncio.sleep(0, webhook_receiver.requests or None),
            within=90,
        )
        posted = time.monotonic()  # the worker took the task before this
        await eventually(
            lambda: asyncio.sleep(
                0,
                (
                    "killed"
                    if "Hard time limit" in read_log(worker_log)
                    else None
                ),
            ),
            30,
        )
        # Past the visibility timeout and the restore interval: an
        # unacknowledged task would have run again.
        await asyncio.sleep(posted + visibility_timeout + 8 - time.monotonic())
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert len(webhook_receiver.requests) == 1
    # acknowledged: gone from Redis
    assert (await redis.llen("celery"), await redis.hlen("unacked")) == (
        0,
        0,
    )
    stored = await only_delivery(committed_session, settled=False)
    assert stored is not None
    # left to the sweep, attempt counted
    assert (stored.status, stored.attempts) == (
        DeliveryStatus.PENDING,
        1,
    )


def read_log(log: TextIO) -> str:
    """What the worker processes have written to their log so far."""
    log.flush()
    return Path(log.name).read_text()


async def test_an_unknown_delivery_is_skipped(settings: Settings) -> None:
    outcome = await attempt_delivery(settings, uuid.uuid4())

    # e.g. its row was purged; nothing to send
    assert outcome == (
        Outcome.SKIPPED,
        0,
    )


def test_a_lost_delivery_waits_about_five_hours_by_default(
    settings: Settings,
) -> None:
    defaults = settings.model_copy(
        update={
            name: Settings.model_fields[name].default
            for name in (
                "celery_visibility_timeout_seconds",
                "celery_task_time_limit_seconds",
            )
        }
    )

    # 3600 s (the retry cap) + 2 x 7200 s (the visibility timeout) + 120 s (one
    # run), ...
    assert lost_after(defaults) == timedelta(hours=5, minutes=2)
    # ... plus up to one sweep interval before the sweep runs and sees it.
    schedule = celery_config(defaults)["beat_schedule"][
        "requeue-lost-webhook-deliveries"
    ]["schedule"]
    assert schedule == timedelta(minutes=10)
