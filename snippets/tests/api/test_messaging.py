"""The messaging API over HTTP, against the real database."""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from app.api.messaging.models import MessageUpdate
from app.api.messaging.service import MessagingService, purge_deleted_messages
from app.core.config import Settings
from app.core.errors import NotFoundError
from app.db.database import create_session_factory
from app.db.message.model import Message
from app.db.message.table import MessagesTable
from app.db.redis import get_redis
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery
from app.db.webhook_delivery.table import WebhookDeliveriesTable
from app.main import create_app
from tests.principals import OWNER

MESSAGES = "/api/v1/messages"
ANY_VERSION = {
    "If-Match": "*"
    # these tests are not about concurrent edits: change whatever version is
    # stored
}


def new_message(**overrides: object) -> dict[str, object]:
    """A valid request body; each call gets its own `client_ref`."""
    return {
        "channel": "email",
        "recipient": "ada@example.com",
        "body": "Your order has shipped.",
        "client_ref": f"order-{uuid.uuid4().hex[:8]}",
    } | overrides


# --8<-- [start:test_create_message]
async def test_create_returns_201_with_location(client: AsyncClient) -> None:
    response = await client.post(MESSAGES, json=new_message(body="  Hello  "))

    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"{MESSAGES}/{created['id']}"
    # whitespace stripped by the request model
    assert created["body"] == "Hello"
    assert created["created_at"] == created["updated_at"]
    assert (
        created["created_at"].endswith("Z")
        or "+00:00" in created["created_at"]
    )
    fetched = await client.get(response.headers["location"])
    assert fetched.json() == created


# --8<-- [end:test_create_message]


async def test_create_rejects_invalid_body_naming_each_field(
    client: AsyncClient,
) -> None:
    response = await client.post(
        MESSAGES, json=new_message(channel="fax", body="", extra="x")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == MESSAGES
    assert {error["field"] for error in problem["errors"]} == {
        "body.channel",
        "body.body",
        "body.extra",
    }


@pytest.mark.parametrize("field", ["recipient", "body"])
async def test_a_nul_character_is_a_422_not_a_500(
    client: AsyncClient, field: str
) -> None:
    # PostgreSQL `text` cannot store U+0000: without the model's rule the
    # INSERT fails with a 500.
    created = await client.post(
        MESSAGES, json=new_message(**{field: "a\u0000b"})
    )
    existing = (await client.post(MESSAGES, json=new_message())).json()
    patched = await client.patch(
        f"{MESSAGES}/{existing['id']}",
        json={field: "a\u0000b"},
        headers=ANY_VERSION,
    )

    for response in (created, patched):
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == [
            f"body.{field}"
        ]


# --8<-- [start:test_duplicate_conflict]
async def test_duplicate_client_ref_is_a_409_problem(
    client: AsyncClient,
) -> None:
    body = new_message(client_ref="order-42")
    assert (await client.post(MESSAGES, json=body)).status_code == 201

    response = await client.post(MESSAGES, json=body)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Resource conflict",
        "status": 409,
        "detail": "Another resource already has the same client_ref.",
        "instance": MESSAGES,
        "errors": [{"field": "client_ref", "message": "already taken"}],
    }


# --8<-- [end:test_duplicate_conflict]


# --8<-- [start:test_conflict_leaks_nothing]
async def test_a_409_names_the_field_but_not_the_value_or_postgres_text(
    client: AsyncClient,
) -> None:
    distinctive = f"leak-{uuid.uuid4().hex}"
    body = new_message(client_ref=distinctive)
    assert (await client.post(MESSAGES, json=body)).status_code == 201

    response = await client.post(MESSAGES, json=body)

    assert response.status_code == 409
    text = response.text
    for leaked in (
        distinctive,
        "Key (",
        "already exists",
        "messages_client_ref_live_key",
        "23505",
    ):
        assert leaked not in text
    assert [error["field"] for error in response.json()["errors"]] == [
        "client_ref"
    ]


# --8<-- [end:test_conflict_leaks_nothing]


# --8<-- [start:test_reuse_after_soft_delete]
async def test_soft_deleted_reference_can_be_reused(
    client: AsyncClient,
) -> None:
    body = new_message(client_ref="order-7")
    first = (await client.post(MESSAGES, json=body)).json()
    assert (
        await client.delete(f"{MESSAGES}/{first['id']}")
    ).status_code == 204

    assert (await client.post(MESSAGES, json=body)).status_code == 201


# --8<-- [end:test_reuse_after_soft_delete]


# --8<-- [start:test_transaction_atomic]
async def test_batch_is_all_or_nothing(
    client: AsyncClient, session: AsyncSession
) -> None:
    good, duplicate = (
        new_message(client_ref="batch-1"),
        new_message(client_ref="batch-1"),
    )

    response = await client.post(f"{MESSAGES}/batch", json=[good, duplicate])

    assert response.status_code == 409
    # The first insert succeeded inside the service's transaction, then was
    # rolled back with it.
    assert (
        await MessagesTable(session, OWNER).all_count(client_ref="batch-1")
        == 0
    )


# --8<-- [end:test_transaction_atomic]


@pytest.mark.parametrize("size", [1, 2])  # 1: the smallest batch accepted
async def test_batch_creates_every_message(
    client: AsyncClient, size: int
) -> None:
    sent = [new_message() for _ in range(size)]

    response = await client.post(f"{MESSAGES}/batch", json=sent)

    assert response.status_code == 201
    assert [item["client_ref"] for item in response.json()] == [
        item["client_ref"] for item in sent
    ]


@pytest.mark.parametrize("size", [0, 101])
async def test_batch_size_is_bounded(client: AsyncClient, size: int) -> None:
    response = await client.post(
        f"{MESSAGES}/batch", json=[new_message() for _ in range(size)]
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body"]


async def test_get_unknown_id_is_404(client: AsyncClient) -> None:
    missing = uuid.uuid4()
    response = await client.get(f"{MESSAGES}/{missing}")

    assert response.status_code == 404
    assert response.json()["detail"] == f"message {missing} does not exist"


async def test_get_malformed_id_is_422(client: AsyncClient) -> None:
    response = await client.get(f"{MESSAGES}/not-a-uuid")

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "path.message_id"
    ]


# --8<-- [start:test_pagination]
async def test_list_walks_every_page_with_the_cursor(
    client: AsyncClient,
) -> None:
    created = [
        (await client.post(MESSAGES, json=new_message())).json()["id"]
        for _ in range(5)
    ]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(MESSAGES, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(created)  # every row once, none twice


# --8<-- [end:test_pagination]


async def test_list_returns_twenty_items_per_page_by_default(
    client: AsyncClient,
) -> None:
    assert (
        await client.post(
            f"{MESSAGES}/batch", json=[new_message() for _ in range(21)]
        )
    ).status_code == 201

    first = (await client.get(MESSAGES)).json()
    assert len(first["items"]) == 20
    assert first["next_cursor"] is not None
    rest = (
        await client.get(MESSAGES, params={"cursor": first["next_cursor"]})
    ).json()
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)


async def test_list_leaves_out_soft_deleted(client: AsyncClient) -> None:
    kept = (await client.post(MESSAGES, json=new_message())).json()
    gone = (await client.post(MESSAGES, json=new_message())).json()
    await client.delete(f"{MESSAGES}/{gone['id']}")

    page = (await client.get(MESSAGES)).json()

    assert [item["id"] for item in page["items"]] == [kept["id"]]
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 101}, "query.limit"), ({"limit": 0}, "query.limit")],
)
async def test_list_limit_is_capped(
    client: AsyncClient, params: dict[str, int], field: str
) -> None:
    response = await client.get(MESSAGES, params=params)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def forged_cursor(created_at: str) -> str:
    """A cursor in the format this API writes, holding a `created_at` it never
    wrote.
    """
    return base64.urlsafe_b64encode(
        f"{created_at}|{uuid.UUID(int=1)}".encode()
    ).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90LWEtY3Vyc29y",
        # before year 1 in UTC: the driver cannot bind it
        forged_cursor("0001-01-01T00:00:00+14:00"),
        forged_cursor("9999-12-31T23:59:59-14:00"),  # after year 9999 in UTC
        # no offset: which instant it means depends on the server
        forged_cursor("2026-01-02T03:04:05"),
    ],
    ids=[
        "not-base64",
        "no-separator",
        "before-year-1",
        "after-year-9999",
        "no-offset",
    ],
)
async def test_list_rejects_a_forged_cursor(
    client: AsyncClient, cursor: str
) -> None:
    response = await client.get(MESSAGES, params={"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "query.cursor",
            "message": "not a cursor returned by this API",
        }
    ]


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()

    response = await client.patch(
        f"{MESSAGES}/{created['id']}",
        json={"body": "Changed"},
        headers=ANY_VERSION,
    )

    assert response.status_code == 200
    updated = response.json()
    assert updated["body"] == "Changed"
    assert updated["recipient"] == created["recipient"]
    assert updated["updated_at"] > created["updated_at"]


async def test_patch_rejects_null_for_a_required_field(
    client: AsyncClient,
) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()

    response = await client.patch(
        f"{MESSAGES}/{created['id']}",
        json={"recipient": None},
        headers=ANY_VERSION,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.recipient"


# --8<-- [start:test_patch_rejects_empty]
async def test_patch_with_nothing_to_change_is_422(
    client: AsyncClient,
) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()

    response = await client.patch(
        f"{MESSAGES}/{created['id']}", json={}, headers=ANY_VERSION
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "body",
            "message": "Value error, send at least one field to change",
        }
    ]


# --8<-- [end:test_patch_rejects_empty]


async def test_patch_of_soft_deleted_is_404(client: AsyncClient) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()
    await client.delete(f"{MESSAGES}/{created['id']}")

    response = await client.patch(
        f"{MESSAGES}/{created['id']}",
        json={"body": "Too late"},
        headers=ANY_VERSION,
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "00000000-0000-4000-8000-000000000001"),
        ("created_at", "2000-01-01T00:00:00Z"),
        ("deleted_at", "2000-01-01T00:00:00Z"),
    ],
    ids=["id", "created_at", "deleted_at"],
)
async def test_patch_cannot_set_id_created_at_or_deleted_at(
    client: AsyncClient, field: str, value: str
) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()

    response = await client.patch(
        f"{MESSAGES}/{created['id']}",
        json={"body": "Changed", field: value},
        headers=ANY_VERSION,
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        f"body.{field}"
    ]
    # nothing was written
    assert (await client.get(f"{MESSAGES}/{created['id']}")).json() == created


async def test_delete_is_soft_and_not_repeatable(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()

    first = await client.delete(f"{MESSAGES}/{created['id']}")
    second = await client.delete(f"{MESSAGES}/{created['id']}")

    assert (first.status_code, first.content) == (204, b"")
    assert second.status_code == 404
    assert (await client.get(f"{MESSAGES}/{created['id']}")).status_code == 404
    row = await MessagesTable(session, OWNER).first_or_default(
        uuid.UUID(created["id"]), include_deleted=True
    )
    assert row is not None
    assert row.deleted_at is not None


@pytest_asyncio.fixture
async def committing_client(
    committed_session: AsyncSession, make_token: Callable[..., str]
) -> AsyncIterator[AsyncClient]:
    """The app with its production sessions: each request has its own
    connection and commits for real, so two requests can race.
    `committed_session` empties the tables afterwards."""
    async with LifespanManager(create_app()) as manager:
        transport = ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {make_token()}"}
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client


async def wait_until_blocked(session: AsyncSession, count: int) -> None:
    """Wait until `count` other backends of this database wait for a lock in an
    `UPDATE messages`.
    """
    blocked = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname ="
        " current_database() AND wait_event_type = 'Lock' AND query LIKE"
        " 'UPDATE messages %'"
    )
    for _ in range(300):
        waiting = (await session.execute(blocked)).scalar_one()
        # pg_stat_activity is read once per transaction: a new one sees changes
        await session.rollback()
        if waiting == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} requests never waited for the row lock")


async def test_two_concurrent_deletes_answer_204_once_and_send_one_event(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    engine: AsyncEngine,
) -> None:
    hook = {
        "target_url": f"https://hooks.example.com/{uuid.uuid4().hex}",
        "event": "message.deleted",
    }
    assert (
        await committing_client.post("/api/v1/webhooks", json=hook)
    ).status_code == 201
    created = (
        await committing_client.post(MESSAGES, json=new_message())
    ).json()
    async with engine.connect() as gate:
        # Another transaction locks the row, so both requests get as far as
        # their UPDATE and wait there.
        await gate.execute(
            select(col(Message.id))
            .where(col(Message.id) == created["id"])
            .with_for_update()
        )
        deletes = [
            asyncio.create_task(
                committing_client.delete(f"{MESSAGES}/{created['id']}")
            )
            for _ in range(2)
        ]
        try:
            await wait_until_blocked(committed_session, 2)
        finally:
            # both go on; the second UPDATE finds the row already deleted
            await gate.rollback()
            responses = await asyncio.gather(*deletes)

    assert sorted(response.status_code for response in responses) == [204, 404]
    events = select(func.count()).where(
        col(WebhookDelivery.message_id) == created["id"],
        col(WebhookDelivery.event) == "message.deleted",
    )
    assert (await committed_session.execute(events)).scalar_one() == 1


async def test_a_patch_waiting_for_a_delete_is_a_404_and_changes_nothing(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    engine: AsyncEngine,
) -> None:
    created = (
        await committing_client.post(MESSAGES, json=new_message(body="Kept"))
    ).json()
    message_id = uuid.UUID(created["id"])
    async with create_session_factory(engine)() as deleting:
        await deleting.begin()
        # not committed yet: the row stays locked
        assert await MessagesTable(deleting, OWNER).soft_delete(message_id)
        patch = asyncio.create_task(
            committing_client.patch(
                f"{MESSAGES}/{message_id}",
                json={"body": "Too late"},
                headers=ANY_VERSION,
            )
        )
        try:
            await wait_until_blocked(committed_session, 1)
        finally:
            await deleting.commit()
            response = await patch

    assert response.status_code == 404
    row = await MessagesTable(committed_session, OWNER).first_or_default(
        message_id, include_deleted=True
    )
    assert row is not None
    assert (row.body, row.deleted_at is not None) == ("Kept", True)


async def test_unknown_route_and_wrong_method_are_problems(
    client: AsyncClient,
) -> None:
    missing = await client.get("/api/v1/nothing-here")
    wrong_method = await client.put(MESSAGES)

    assert (missing.status_code, missing.json()["title"]) == (404, "Not Found")
    assert missing.headers["content-type"] == "application/problem+json"
    assert (wrong_method.status_code, wrong_method.json()["title"]) == (
        405,
        "Method Not Allowed",
    )
    assert "POST" in wrong_method.headers["allow"]


# --8<-- [start:test_cache_aside]
async def test_get_is_cached_until_a_write_invalidates_it(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = (
        await client.post(MESSAGES, json=new_message(body="Original"))
    ).json()
    url = f"{MESSAGES}/{created['id']}"
    # loaded and cached
    assert (await client.get(url)).json()["body"] == "Original"

    # A change that bypasses the service is not seen: the read is served from
    # Redis.
    await session.execute(
        update(Message)
        .where(col(Message.id) == uuid.UUID(created["id"]))
        .values(body="Sneaky")
    )
    assert (await client.get(url)).json()["body"] == "Original"

    # A change through the service invalidates the entry after its commit.
    await client.patch(
        url, json={"recipient": "grace@example.com"}, headers=ANY_VERSION
    )
    assert (await client.get(url)).json()["body"] == "Sneaky"


# --8<-- [end:test_cache_aside]


async def test_not_found_is_not_cached(
    client: AsyncClient, redis: Redis
) -> None:
    assert (await client.get(f"{MESSAGES}/{uuid.uuid4()}")).status_code == 404

    assert await redis.dbsize() == 0


@pytest_asyncio.fixture
async def redis_down(app: FastAPI) -> AsyncIterator[Callable[[bool], None]]:
    """`redis_down(True)`: the app's next requests get a client on a port
    nothing listens on.
    """
    down = Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)

    def switch(is_down: bool) -> None:
        if is_down:
            app.dependency_overrides[get_redis] = lambda: down
        else:
            app.dependency_overrides.pop(get_redis, None)

    yield switch
    await down.aclose()


# --8<-- [start:test_write_with_broker_down]
async def test_a_write_succeeds_with_the_broker_down(
    client: AsyncClient,
    session: AsyncSession,
    unreachable_broker: Callable[[], AbstractContextManager[None]],
    logged_warnings: list[dict[str, Any]],
) -> None:
    await client.post(
        "/api/v1/webhooks",
        json={
            "target_url": "https://hooks.example.com/",
            "event": "message.created",
        },
    )

    with unreachable_broker():
        response = await client.post(MESSAGES, json=new_message())

    # committed is committed: the client must not retry into a 409
    assert response.status_code == 201
    [delivery] = (await WebhookDeliveriesTable(session).all()).items
    # committed with the message; the sweep sends it
    assert delivery.status == DeliveryStatus.PENDING
    [record] = logged_warnings  # one error per send, which Sentry reports
    assert (record["level"].name, record["extra"]["delivery_ids"]) == (
        "ERROR",
        [str(delivery.id)],
    )
    # the broker's own message, not only a class name
    assert "127.0.0.1:1" in record["extra"]["error"]


# --8<-- [end:test_write_with_broker_down]


async def test_a_failed_send_logs_every_delivery_it_did_not_enqueue(
    client: AsyncClient,
    session: AsyncSession,
    unreachable_broker: Callable[[], AbstractContextManager[None]],
    logged_warnings: list[dict[str, Any]],
) -> None:
    for host in ("one", "two"):
        hook = {
            "target_url": f"https://{host}.example.com/",
            "event": "message.created",
        }
        assert (
            await client.post("/api/v1/webhooks", json=hook)
        ).status_code == 201

    with unreachable_broker():
        assert (
            await client.post(MESSAGES, json=new_message())
        ).status_code == 201

    deliveries = (await WebhookDeliveriesTable(session).all()).items
    assert len(deliveries) == 2
    [record] = (
        logged_warnings  # send stops at the first failure and names both
    )
    assert sorted(record["extra"]["delivery_ids"]) == sorted(
        str(delivery.id) for delivery in deliveries
    )
    assert record["extra"]["cause"] == "ConnectionError"


async def test_a_write_answers_in_bounded_time_when_the_broker_stalls(
    client: AsyncClient,
    session: AsyncSession,
    stalled_broker: Callable[[], AbstractContextManager[None]],
    logged_warnings: list[dict[str, Any]],
) -> None:
    await client.post(
        "/api/v1/webhooks",
        json={
            "target_url": "https://hooks.example.com/",
            "event": "message.created",
        },
    )

    with stalled_broker():
        started = time.monotonic()
        # Without socket timeouts on the broker connection, send_task waits for
        # an answer forever.
        response = await asyncio.wait_for(
            client.post(MESSAGES, json=new_message()), timeout=15
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 201
    # the broker's socket timeouts, not the stalled server, end the wait
    assert elapsed < 10
    [delivery] = (await WebhookDeliveriesTable(session).all()).items
    assert delivery.status == DeliveryStatus.PENDING
    [record] = logged_warnings
    assert (record["extra"]["delivery_ids"], record["extra"]["cause"]) == (
        [str(delivery.id)],
        "TimeoutError",
    )


# --8<-- [start:test_write_with_redis_down]
async def test_a_write_succeeds_with_redis_down_and_the_stale_entry_ends_with_its_ttl(
    client: AsyncClient,
    session: AsyncSession,
    redis: Redis,
    redis_down: Callable[[bool], None],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    logged_warnings: list[dict[str, Any]],
) -> None:
    monkeypatch.setattr(settings, "message_cache_ttl_seconds", 3)
    created = (
        await client.post(MESSAGES, json=new_message(body="Original"))
    ).json()
    url = f"{MESSAGES}/{created['id']}"
    # cached, for three seconds
    assert (await client.get(url)).json()["body"] == "Original"

    redis_down(True)
    response = await client.patch(
        url, json={"body": "Changed"}, headers=ANY_VERSION
    )
    redis_down(False)

    # the invalidation failed ...
    assert (response.status_code, response.json()["body"]) == (
        200,
        "Changed",
    )
    [record] = logged_warnings  # ... and said so, with Redis's own error
    assert (record["message"][:24], record["extra"]["error_type"]) == (
        "cache invalidation of me",
        "ConnectionError",
    )
    # ... so the old copy is served ...
    assert (await client.get(url)).json()["body"] == "Original"
    key = MessagingService(session, redis, OWNER).cache.key(created["id"])
    # what is left of the TTL, however slow
    await asyncio.sleep(max(0, await redis.pttl(key)) / 1000 + 0.05)
    # ... until its TTL ends
    assert (await client.get(url)).json()["body"] == "Changed"


async def test_a_delete_with_redis_down_answers_204_and_the_copy_is_served_until_its_ttl(
    client: AsyncClient,
    session: AsyncSession,
    redis: Redis,
    redis_down: Callable[[bool], None],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "message_cache_ttl_seconds", 3)
    created = (await client.post(MESSAGES, json=new_message())).json()
    url = f"{MESSAGES}/{created['id']}"
    assert (await client.get(url)).status_code == 200  # cached

    redis_down(True)
    assert (await client.delete(url)).status_code == 204
    redis_down(False)

    assert (
        (response := await client.get(url)).status_code,
        response.json(),
    ) == (200, created)
    key = MessagingService(session, redis, OWNER).cache.key(created["id"])
    await asyncio.sleep(max(0, await redis.pttl(key)) / 1000 + 0.05)
    # the deleted message's copy ends with its TTL
    assert (await client.get(url)).status_code == 404


# --8<-- [end:test_write_with_redis_down]


# --8<-- [start:test_read_with_redis_down]
async def test_a_get_with_redis_down_answers_from_the_database(
    client: AsyncClient,
    redis_down: Callable[[bool], None],
    logged_warnings: list[dict[str, Any]],
) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()

    redis_down(True)
    response = await client.get(f"{MESSAGES}/{created['id']}")

    assert (response.status_code, response.json()) == (200, created)
    assert [record["extra"]["error_type"] for record in logged_warnings] == [
        "ConnectionError"
    ]


# --8<-- [end:test_read_with_redis_down]


async def test_a_create_with_redis_down_answers_503_and_creates_nothing(
    client: AsyncClient,
    session: AsyncSession,
    redis_down: Callable[[bool], None],
) -> None:
    redis_down(True)
    response = await client.post(MESSAGES, json=new_message())

    # the rate limit needs Redis
    assert (response.status_code, response.headers["retry-after"]) == (
        503,
        "1",
    )
    assert (
        await session.execute(text("select count(*) from messages"))
    ).scalar_one() == 0


# --8<-- [start:test_stale_shape_replaced]
async def test_a_cached_value_that_no_longer_validates_is_replaced(
    client: AsyncClient, session: AsyncSession, redis: Redis
) -> None:
    created = (await client.post(MESSAGES, json=new_message())).json()
    key = MessagingService(session, redis, OWNER).cache.key(created["id"])
    await redis.set(
        key, json.dumps({"id": created["id"], "text": "an older shape"})
    )

    response = await client.get(f"{MESSAGES}/{created['id']}")

    # a miss, loaded from the database
    assert (response.status_code, response.json()) == (
        200,
        created,
    )
    # and overwritten in the current shape
    assert json.loads(await redis.get(key) or "null") == created


# --8<-- [end:test_stale_shape_replaced]


# --8<-- [start:test_purge_leaves_no_copy]
async def rows_holding(session: AsyncSession, value: str) -> dict[str, int]:
    """Every text and JSON column of every table, searched for `value`: a new
    table cannot hide a copy.
    """
    columns = await session.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type IN ('text',"
            " 'character varying', 'json', 'jsonb')"
        )
    )
    found = {}
    for table, column in columns.tuples():
        # The names come from the catalog, never from a request.
        query = text(
            f'SELECT count(*) FROM "{table}"'  # noqa: S608
            f' WHERE "{column}"::text LIKE :pattern'
        )
        found[f"{table}.{column}"] = (
            await session.execute(query, {"pattern": f"%{value}%"})
        ).scalar_one()
    return {where: count for where, count in found.items() if count}


async def test_purge_leaves_no_copy_of_the_recipient_or_body(
    client: AsyncClient, session: AsyncSession
) -> None:
    for event in ("message.created", "message.updated"):
        hook = {
            "target_url": f"https://hooks.example.com/{uuid.uuid4().hex}",
            "event": event,
        }
        assert (
            await client.post("/api/v1/webhooks", json=hook)
        ).status_code == 201
    recipient, body, new_body = (
        f"{kind}-{uuid.uuid4().hex}" for kind in ("to", "body", "edited")
    )
    created = (
        await client.post(
            MESSAGES, json=new_message(recipient=recipient, body=body)
        )
    ).json()
    assert (
        await client.patch(
            f"{MESSAGES}/{created['id']}",
            json={"body": new_body},
            headers=ANY_VERSION,
        )
    ).status_code == 200
    assert (
        await client.delete(f"{MESSAGES}/{created['id']}")
    ).status_code == 204
    # The search sees the copies the events made: the created body lives on
    # only in a delivery.
    assert set(await rows_holding(session, body)) == {
        "webhook_deliveries.payload"
    }
    await session.execute(
        update(Message)
        .where(col(Message.id) == uuid.UUID(created["id"]))
        .values(deleted_at=func.now() - timedelta(days=40))
    )

    # the job starts with no transaction open, as in production
    await session.commit()

    await purge_deleted_messages(session, older_than=timedelta(days=30))

    for value in (recipient, body, new_body):
        assert await rows_holding(session, value) == {}


# --8<-- [end:test_purge_leaves_no_copy]


async def test_the_service_raises_not_found_instead_of_returning_nothing(
    session: AsyncSession, redis: Redis
) -> None:
    """Called without HTTP, as a task or a script calls it, a missing message
    is an error, not `None`.
    """
    service, missing = MessagingService(session, redis, OWNER), uuid.uuid4()

    with pytest.raises(
        NotFoundError, match=f"message {missing} does not exist"
    ):
        await service.get(missing)
    with pytest.raises(
        NotFoundError, match=f"message {missing} does not exist"
    ):
        await service.update(missing, MessageUpdate(body="x"), versions=None)
    with pytest.raises(
        NotFoundError, match=f"message {missing} does not exist"
    ):
        await service.delete(missing)
