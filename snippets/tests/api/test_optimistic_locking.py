"""Optimistic locking of `PATCH /messages/{id}`: the version goes out as `ETag`
and must come back in `If-Match`.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from app.core.errors import ContentionError
from app.db.message.model import Message
from app.db.webhook.model import Webhook
from app.db.webhook_delivery.model import WebhookDelivery
from app.main import create_app

MESSAGES = "/api/v1/messages"


async def create_message(client: AsyncClient, body: str = "Draft") -> str:
    """Create a message and return its URL."""
    ref = f"etag-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        MESSAGES,
        json={
            "channel": "sms",
            "recipient": "+15550100",
            "body": body,
            "client_ref": ref,
        },
    )
    assert response.status_code == 201
    return f"{MESSAGES}/{response.json()['id']}"


# --8<-- [start:test_stale_etag_is_412]
async def test_two_clients_read_the_same_etag_and_the_second_update_is_412_and_not_written(
    client: AsyncClient,
) -> None:
    url = await create_message(client)
    read_by_one = await client.get(url)
    read_by_two = await client.get(url)
    etag = read_by_one.headers["ETag"]
    assert read_by_two.headers["ETag"] == etag == '"1"'

    first = await client.patch(
        url, json={"body": "Edited by one"}, headers={"If-Match": etag}
    )
    second = await client.patch(
        url, json={"body": "Edited by two"}, headers={"If-Match": etag}
    )

    assert (first.status_code, first.headers["ETag"]) == (200, '"2"')
    assert second.status_code == 412
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["title"] == "Precondition failed"
    now = await client.get(url)
    # the second change was not written
    assert (now.json()["body"], now.headers["ETag"]) == (
        "Edited by one",
        '"2"',
    )


# --8<-- [end:test_stale_etag_is_412]


async def test_a_412_drops_the_cached_copy_so_the_next_get_has_the_current_etag(
    client: AsyncClient, session: AsyncSession
) -> None:
    url = await create_message(client)
    assert (await client.get(url)).headers["ETag"] == '"1"'  # now cached
    # A write whose invalidation never reached the cache (or lost the
    # cache-aside race).
    await session.execute(
        text("UPDATE messages SET version = 2 WHERE id = :id"),
        {"id": url.rsplit("/", 1)[1]},
    )

    refused = await client.patch(
        url, json={"body": "Edited"}, headers={"If-Match": '"1"'}
    )
    again = await client.get(url)

    assert refused.status_code == 412
    # not the stale copy, which would be 412 again until its TTL
    assert again.headers["ETag"] == '"2"'


# --8<-- [start:test_missing_if_match_is_428]
async def test_an_update_without_if_match_is_428_and_changes_nothing(
    client: AsyncClient,
) -> None:
    url = await create_message(client, body="Kept")

    response = await client.patch(url, json={"body": "Blind overwrite"})

    assert response.status_code == 428
    assert response.json()["title"] == "Precondition required"
    assert (await client.get(url)).json()["body"] == "Kept"


# --8<-- [end:test_missing_if_match_is_428]


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("*", 200),  # any version: the client chose to overwrite
        ('"7", "1"', 200),  # a list matches if one of its tags does
        ('W/"1"', 412),  # a weak tag never matches If-Match
        ("1", 412),  # not an entity tag: no quotes
        ('"99999999999"', 412),  # no version this API could have sent
    ],
)
async def test_if_match_accepts_star_and_lists_of_strong_etags(
    client: AsyncClient, if_match: str, status: int
) -> None:
    url = await create_message(client)

    response = await client.patch(
        url, json={"body": "Changed"}, headers={"If-Match": if_match}
    )

    assert response.status_code == status
    assert (await client.get(url)).json()["body"] == (
        "Changed" if status == 200 else "Draft"
    )


@pytest.mark.parametrize("if_match", ['"1"', "*", 'W/"1"', '"7", "1"'])
async def test_a_missing_message_is_404_whatever_the_if_match(
    client: AsyncClient, if_match: str
) -> None:
    url = await create_message(client)
    assert (await client.delete(url)).status_code == 204
    unknown = f"{MESSAGES}/{uuid.uuid4()}"

    deleted = await client.patch(
        url, json={"body": "Too late"}, headers={"If-Match": if_match}
    )
    never_made = await client.patch(
        unknown, json={"body": "Too late"}, headers={"If-Match": if_match}
    )
    without = await client.patch(unknown, json={"body": "Too late"})

    # not 412: no version of it can match
    assert (deleted.status_code, never_made.status_code) == (
        404,
        404,
    )
    # the If-Match check runs before the row is looked up
    assert without.status_code == 428


async def test_the_version_is_in_the_body_and_grows_with_each_update(
    client: AsyncClient,
) -> None:
    url = await create_message(client)

    for expected in (2, 3):
        etag = (await client.get(url)).headers["ETag"]
        updated = await client.patch(
            url,
            json={"body": f"Version {expected}"},
            headers={"If-Match": etag},
        )
        assert (updated.json()["version"], updated.headers["ETag"]) == (
            expected,
            f'"{expected}"',
        )


# --8<-- [start:test_openapi_documents_412_and_428]
async def test_openapi_documents_the_etag_and_the_412_428_and_503_problems(
    client: AsyncClient,
) -> None:
    message = (await client.get("/openapi.json")).json()["paths"][
        "/api/v1/messages/{message_id}"
    ]

    patch = message["patch"]
    assert {"412", "428", "503"} <= patch["responses"].keys()
    for code in ("412", "428", "503"):
        assert (
            "application/problem+json" in patch["responses"][code]["content"]
        )
    assert ("if-match", "header") in [
        (parameter["name"], parameter["in"])
        for parameter in patch["parameters"]
    ]
    assert "ETag" in patch["responses"]["200"]["headers"]
    assert "ETag" in message["get"]["responses"]["200"]["headers"]


# --8<-- [end:test_openapi_documents_412_and_428]


@pytest_asyncio.fixture
async def committing_client(
    engine: AsyncEngine, make_token: Callable[..., str]
) -> AsyncIterator[AsyncClient]:
    """The app with its production sessions: each request has its own
    connection and commits, so two requests can race. The messages it creates
    are deleted afterwards."""
    async with LifespanManager(create_app()) as manager:
        transport = ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {make_token()}"}
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client
    async with engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM messages WHERE client_ref LIKE 'etag-%'")
        )
        await connection.execute(
            text(
                "DELETE FROM webhooks WHERE target_url LIKE"
                " 'https://hooks.example.com/etag-%'"
            )
        )


async def wait_until_blocked(
    engine: AsyncEngine, count: int, statement: str = "UPDATE messages"
) -> None:
    """Wait until `count` backends wait for a lock in a statement that starts
    with `statement`.
    """
    blocked = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname ="
        " current_database() AND wait_event_type = 'Lock' AND query LIKE"
        " :statement || ' %'"
    )
    for _ in range(300):
        async with engine.connect() as connection:
            if (
                await connection.execute(blocked, {"statement": statement})
            ).scalar_one() == count:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} requests never waited for the row lock")


# --8<-- [start:test_concurrent_patches_one_wins]
async def test_two_concurrent_updates_with_the_same_etag_one_is_200_and_the_other_412(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    url = await create_message(committing_client)
    etag = (await committing_client.get(url)).headers["ETag"]
    message_id = url.rsplit("/", 1)[1]
    async with AsyncSession(engine) as gate, gate.begin():
        # Another transaction locks the row, so both requests reach their
        # UPDATE and wait there together.
        await gate.execute(
            select(col(Message.id))
            .where(col(Message.id) == message_id)
            .with_for_update()
        )
        patches = [
            asyncio.create_task(
                committing_client.patch(
                    url, json={"body": body}, headers={"If-Match": etag}
                )
            )
            for body in ("From one", "From two")
        ]
        await wait_until_blocked(engine, 2)
    # The gate committed: the first UPDATE writes version 2; the second
    # re-checks `version = 1` and matches nothing.
    responses = await asyncio.gather(*patches)

    assert sorted(response.status_code for response in responses) == [200, 412]
    winner = next(
        response for response in responses if response.status_code == 200
    )
    assert (await committing_client.get(url)).json()["body"] == winner.json()[
        "body"
    ]


# --8<-- [end:test_concurrent_patches_one_wins]


# --8<-- [start:test_service_retries_a_deadlock]
async def test_a_patch_chosen_as_a_deadlock_victim_is_retried_whole_and_answers_200(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    hook = {
        "target_url": f"https://hooks.example.com/etag-{uuid.uuid4().hex}",
        "event": "message.updated",
    }
    webhook_id = (
        await committing_client.post("/api/v1/webhooks", json=hook)
    ).json()["id"]
    url = await create_message(committing_client)
    message_id = url.rsplit("/", 1)[1]
    async with AsyncSession(engine) as other, other.begin():
        # the request detects it first: its victim
        await other.execute(text("SET LOCAL deadlock_timeout = '10s'"))
        # Another transaction locks the subscription, so the request's delivery
        # INSERT waits for it...
        await other.execute(
            select(col(Webhook.id))
            .where(col(Webhook.id) == webhook_id)
            .with_for_update()
        )
        patch = asyncio.create_task(
            committing_client.patch(
                url, json={"body": "Changed"}, headers={"If-Match": '"1"'}
            )
        )
        await wait_until_blocked(engine, 1, "INSERT INTO webhook_deliveries")
        # ...while holding its lock on the message, which this transaction now
        # waits for: a deadlock.
        await other.execute(
            select(col(Message.id))
            .where(col(Message.id) == message_id)
            .with_for_update(read=True)
        )
        # Only the request's abort (40P01) released the message; this
        # transaction did not fail.
    response = await patch

    # the retry succeeded
    assert (response.status_code, response.json()["body"]) == (
        200,
        "Changed",
    )
    async with AsyncSession(engine) as session:
        deliveries = select(func.count()).where(
            col(WebhookDelivery.message_id) == message_id
        )
        # the aborted attempt's row is gone
        assert (await session.execute(deliveries)).scalar_one() == 1


# --8<-- [end:test_service_retries_a_deadlock]


async def test_a_contention_error_is_a_503_problem(
    app: FastAPI, client: AsyncClient
) -> None:
    async def always_deadlocked() -> None:
        raise ContentionError("gave up after 3 attempts; try again later")

    app.add_api_route("/always-deadlocked", always_deadlocked)

    response = await client.get("/always-deadlocked")

    assert (response.status_code, response.json()["title"]) == (
        503,
        "Service busy",
    )
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_browser_on_an_allowed_origin_may_send_if_match_and_read_the_etag(
    client: AsyncClient,
) -> None:
    origin = (  # the settings fixture allows exactly this origin
        "https://app.test"
    )
    url = await create_message(client)
    preflight = await client.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": (
                "authorization, content-type, if-match"
            ),
        },
    )
    read = await client.get(url, headers={"Origin": origin})

    # without If-Match in `allow_headers`, 400: the browser sends no PATCH
    assert preflight.status_code == 200
    assert "If-Match" in preflight.headers["access-control-allow-headers"]
    # else a script cannot read it
    assert "ETag" in read.headers["access-control-expose-headers"]
