"""`Idempotency-Key` on POST /messages: a retry gets the first response back
and creates nothing, on the real database, with requests that race on their own
connections."""

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from celery.schedules import crontab
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from app.api.messaging.service import purge_expired_idempotency_keys
from app.celery_app import (
    PURGE_IDEMPOTENCY_KEYS_TASK,
    celery_app,
    celery_config,
)
from app.core.config import Settings
from app.db.idempotency_key.model import IdempotencyKey
from app.db.idempotency_key.table import IdempotencyKeysTable
from app.db.message.model import Message
from app.main import create_app

MESSAGES = "/api/v1/messages"
SERVICE_ROOT = Path(__file__).resolve().parents[2]


def new_message(**overrides: object) -> dict[str, object]:
    """A valid request body; each call gets its own `client_ref`."""
    return {
        "channel": "email",
        "recipient": "ada@example.com",
        "body": "Your order has shipped.",
        "client_ref": f"order-{uuid.uuid4().hex[:8]}",
    } | overrides


def with_key(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def messages_with_ref(session: AsyncSession, client_ref: object) -> int:
    statement = (
        select(func.count())
        .select_from(Message)
        .where(col(Message.client_ref) == client_ref)
    )
    return (await session.execute(statement)).scalar_one()


async def stored_keys(session: AsyncSession, principal: str = "user-1") -> int:
    statement = (
        select(func.count())
        .select_from(IdempotencyKey)
        .where(col(IdempotencyKey.principal) == principal)
    )
    return (await session.execute(statement)).scalar_one()


# --8<-- [start:test_retry_same_key]
async def test_a_retried_post_with_the_same_idempotency_key_gets_the_first_response_and_one_row(
    client: AsyncClient, session: AsyncSession
) -> None:
    body, key = new_message(), str(uuid.uuid4())

    first = await client.post(MESSAGES, json=body, headers=with_key(key))
    retry = await client.post(MESSAGES, json=body, headers=with_key(key))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()  # the same id, the same timestamps
    assert retry.headers["location"] == first.headers["location"]
    assert await messages_with_ref(session, body["client_ref"]) == 1


# --8<-- [end:test_retry_same_key]


async def test_a_retried_batch_with_the_same_key_gets_the_first_response_and_creates_nothing(
    client: AsyncClient, session: AsyncSession
) -> None:
    batch, key = [new_message(), new_message()], str(uuid.uuid4())

    first = await client.post(
        f"{MESSAGES}/batch", json=batch, headers=with_key(key)
    )
    retry = await client.post(
        f"{MESSAGES}/batch", json=batch, headers=with_key(key)
    )
    single = await client.post(MESSAGES, json=batch[0], headers=with_key(key))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert [
        await messages_with_ref(session, item["client_ref"]) for item in batch
    ] == [1, 1]
    assert single.status_code == 422  # the key was used for another operation


async def test_a_retried_batch_is_not_charged_again_by_the_rate_limit(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 3)
    batch, key = [new_message(), new_message()], str(uuid.uuid4())

    first = await client.post(
        f"{MESSAGES}/batch", json=batch, headers=with_key(key)
    )
    # 2 more would not fit
    retry = await client.post(
        f"{MESSAGES}/batch", json=batch, headers=with_key(key)
    )
    fits, refused = [
        (await client.post(MESSAGES, json=new_message())).status_code
        for _ in range(2)
    ]

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert (fits, refused) == (201, 429)  # the batch cost 2 of the 3, once


# --8<-- [start:test_key_reused]
async def test_the_same_key_with_another_body_is_a_422_problem(
    client: AsyncClient, session: AsyncSession
) -> None:
    key = str(uuid.uuid4())
    assert (
        await client.post(MESSAGES, json=new_message(), headers=with_key(key))
    ).status_code == 201

    other = new_message(body="Another text")
    reused = await client.post(MESSAGES, json=other, headers=with_key(key))

    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json() == {
        "type": "about:blank",
        "title": "Idempotency key reused",
        "status": 422,
        "detail": (
            "This Idempotency-Key was used with another request body; use a"
            " new key for a new request."
        ),
        "instance": MESSAGES,
    }
    assert await messages_with_ref(session, other["client_ref"]) == 0


# --8<-- [end:test_key_reused]


async def test_the_fingerprint_is_of_the_validated_body(
    client: AsyncClient,
) -> None:
    body, key = new_message(), str(uuid.uuid4())
    first = await client.post(MESSAGES, json=body, headers=with_key(key))

    # Other key order and whitespace the model strips: the same request, so a
    # replay, not a 422.
    reordered = dict(reversed(body.items())) | {"body": f"  {body['body']}  "}
    retry = await client.post(MESSAGES, json=reordered, headers=with_key(key))

    assert (retry.status_code, retry.json()) == (201, first.json())


async def test_a_key_belongs_to_the_caller_that_sent_it(
    client: AsyncClient, make_token: Callable[..., str], session: AsyncSession
) -> None:
    key = str(uuid.uuid4())
    mine = await client.post(
        MESSAGES, json=new_message(), headers=with_key(key)
    )

    other_caller = {
        "Authorization": f"Bearer {make_token(sub='user-2')}"
    } | with_key(key)
    theirs = await client.post(
        MESSAGES, json=new_message(), headers=other_caller
    )

    # not a 422, and not my response
    assert (mine.status_code, theirs.status_code) == (
        201,
        201,
    )
    assert theirs.json()["id"] != mine.json()["id"]
    assert (
        await stored_keys(session, "user-1"),
        await stored_keys(session, "user-2"),
    ) == (1, 1)


async def test_a_post_without_the_header_stores_no_key(
    client: AsyncClient, session: AsyncSession
) -> None:
    assert (await client.post(MESSAGES, json=new_message())).status_code == 201
    assert await stored_keys(session) == 0


async def test_a_failed_post_keeps_no_key_so_its_retry_runs_again(
    client: AsyncClient, session: AsyncSession
) -> None:
    taken = new_message()
    assert (await client.post(MESSAGES, json=taken)).status_code == 201
    key = str(uuid.uuid4())

    failed = await client.post(
        MESSAGES,
        json=new_message(client_ref=taken["client_ref"]),
        headers=with_key(key),
    )
    # the client_ref is taken: the transaction and the key roll back
    assert failed.status_code == 409
    assert await stored_keys(session) == 0

    fixed = await client.post(
        MESSAGES, json=new_message(), headers=with_key(key)
    )
    # a new attempt under the same key, not a 422
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", [b"", b"with space", "é".encode(), b"k" * 256])
async def test_a_malformed_key_is_a_422_naming_the_header(
    client: AsyncClient, key: bytes
) -> None:
    response = await client.post(
        MESSAGES, json=new_message(), headers={b"Idempotency-Key": key}
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "header.Idempotency-Key"
    ]


async def test_the_claim_restores_the_lock_timeout_for_the_work_that_follows(
    session: AsyncSession,
) -> None:
    await session.execute(text("SET LOCAL lock_timeout = '7s'"))
    row = IdempotencyKey(
        principal="user-1",
        key="k",
        fingerprint="f",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )

    assert (
        await IdempotencyKeysTable(session).claim(row, wait_seconds=0.2)
        is None
    )
    assert (
        await session.execute(text("SHOW lock_timeout"))
    ).scalar_one() == "7s"


async def test_an_expired_key_starts_a_new_request(
    client: AsyncClient, session: AsyncSession
) -> None:
    key = str(uuid.uuid4())
    first = await client.post(
        MESSAGES, json=new_message(), headers=with_key(key)
    )
    expire = update(IdempotencyKey).where(col(IdempotencyKey.key) == key)
    # the purge has not run
    await session.execute(
        expire.values(expires_at=func.now() - timedelta(seconds=1))
    )

    # another body: no 422 now
    again = await client.post(
        MESSAGES, json=new_message(), headers=with_key(key)
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] != first.json()["id"]


async def test_the_key_a_claim_found_stays_locked_until_its_transaction_ends(
    engine: AsyncEngine,
) -> None:
    principal = f"lock-{uuid.uuid4().hex[:8]}"

    def key_row() -> IdempotencyKey:
        return IdempotencyKey(
            principal=principal,
            key="k",
            fingerprint="f",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )

    async with AsyncSession(engine) as setup, setup.begin():
        setup.add(key_row())
    try:
        async with AsyncSession(engine) as claiming, claiming.begin():
            assert (
                await IdempotencyKeysTable(claiming).claim(
                    key_row(), wait_seconds=1
                )
                is not None
            )
            # nothing, the purge included, removes it under the claim
            async with engine.connect() as purge:
                await purge.execute(text("SET lock_timeout = '200ms'"))
                with pytest.raises(DBAPIError, match="lock timeout"):
                    await purge.execute(
                        delete(IdempotencyKey).where(
                            col(IdempotencyKey.principal) == principal
                        )
                    )
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(IdempotencyKey).where(
                    col(IdempotencyKey.principal) == principal
                )
            )


async def test_an_error_other_than_a_lock_wait_is_not_taken_for_a_request_in_flight(
    session: AsyncSession,
) -> None:
    too_long = IdempotencyKey(
        principal="user-1",
        key="k" * 256,
        fingerprint="f",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )

    # the CHECK in the migration
    with pytest.raises(IntegrityError, match="idempotency_keys_key_check"):
        await IdempotencyKeysTable(session).claim(too_long, wait_seconds=0.2)


# --8<-- [start:racing_fixtures]
@pytest_asyncio.fixture
async def committing_app(
    committed_session: AsyncSession,
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[FastAPI]:
    """The app with its production sessions: each request takes its own
    connection from the pool and commits for real, so two requests can race.
    The tables are emptied afterwards."""
    # a slow machine never turns a race into a 409
    monkeypatch.setattr(settings, "idempotency_wait_seconds", 30.0)
    async with LifespanManager(create_app()) as manager:
        # The manager's app is the ASGI app we gave it.
        yield manager.app  # type: ignore[misc]
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE idempotency_keys"))


def new_client(app: FastAPI, token: str) -> AsyncClient:
    """A client of its own, as a second process retrying the same request would
    have.
    """
    transport = ASGITransport(app=app)
    return AsyncClient(
        transport=transport,
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def wait_for_lock_waits(engine: AsyncEngine, count: int) -> None:
    """Wait until `count` backends of this database wait for a lock (pg_locks:
    not granted).
    """
    waiting = text(
        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
        " WHERE NOT granted AND datname = current_database()"
    )
    seen = -1
    for _ in range(300):
        async with engine.connect() as connection:
            seen = (await connection.execute(waiting)).scalar_one()
        if seen == count:
            break
        await asyncio.sleep(0.02)
    assert seen == count, f"{count} requests never waited for a lock"


# --8<-- [end:racing_fixtures]


# --8<-- [start:test_race]
async def test_two_racing_posts_with_one_key_create_one_row_and_get_the_same_response(
    committing_app: FastAPI,
    make_token: Callable[..., str],
    engine: AsyncEngine,
    committed_session: AsyncSession,
) -> None:
    body, key, token = new_message(), str(uuid.uuid4()), make_token()
    async with (
        new_client(committing_app, token) as first,
        new_client(committing_app, token) as second,
    ):
        async with engine.connect() as blocker, blocker.begin():
            # Hold back every INSERT into messages, so both requests are in
            # flight at once.
            await blocker.execute(text("LOCK TABLE messages IN SHARE MODE"))
            racing = [
                asyncio.create_task(
                    client.post(MESSAGES, json=body, headers=with_key(key))
                )
                for client in (first, second)
            ]
            # one waits for the table, the other for the key
            await wait_for_lock_waits(engine, 2)
        responses: list[Response] = await asyncio.gather(*racing)

    assert [response.status_code for response in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert await messages_with_ref(committed_session, body["client_ref"]) == 1


# --8<-- [end:test_race]


@contextmanager
def api_process() -> Iterator[str]:
    """The service served by uvicorn in a process of its own, as in production;
    its base URL.

    It reads the test settings from the environment, as the `settings` fixture
    left it.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(
        command,
        cwd=SERVICE_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    httpx.get(f"{base_url}/livez", timeout=1).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (
                    "the API process did not start"
                )
                time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


async def test_a_retry_after_a_restart_gets_the_first_response(
    settings: Settings,
    make_token: Callable[..., str],
    engine: AsyncEngine,
    committed_session: AsyncSession,
) -> None:
    body, key = new_message(), str(uuid.uuid4())
    headers = with_key(key) | {"Authorization": f"Bearer {make_token()}"}
    try:
        # Two interpreters one after the other: nothing in the first one's
        # memory reaches the second.
        with api_process() as base_url:
            async with httpx.AsyncClient(
                base_url=base_url, headers=headers
            ) as client:
                first = await client.post(MESSAGES, json=body)
        with api_process() as base_url:
            async with httpx.AsyncClient(
                base_url=base_url, headers=headers
            ) as client:
                retry = await client.post(MESSAGES, json=body)
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("TRUNCATE idempotency_keys"))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert await messages_with_ref(committed_session, body["client_ref"]) == 1


# --8<-- [start:test_check_then_insert]
async def test_a_check_then_insert_without_a_unique_key_lets_both_racing_requests_through(
    engine: AsyncEngine,
) -> None:
    # committed, so both connections see it; dropped below
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE naive_keys (principal text, key text)")
        )
    check = text(
        "SELECT count(*) FROM naive_keys WHERE principal = 'user-1' AND key"
        " = 'k'"
    )
    try:
        async with (
            AsyncSession(engine) as first,
            AsyncSession(engine) as second,
        ):
            # Two requests with one key, as two app processes would run them at
            # the same moment.
            assert (await first.execute(check)).scalar_one() == 0
            # both checks pass
            assert (await second.execute(check)).scalar_one() == 0
            for session in (first, second):
                await session.execute(
                    text("INSERT INTO naive_keys VALUES ('user-1', 'k')")
                )
                # and both requests go on to create the message
                await session.commit()
        async with engine.connect() as connection:
            assert (await connection.execute(check)).scalar_one() == 2
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE naive_keys"))


# --8<-- [end:test_check_then_insert]


# --8<-- [start:test_in_flight]
async def test_a_retry_while_the_first_post_is_still_running_is_a_409_problem(
    committing_app: FastAPI,
    make_token: Callable[..., str],
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "idempotency_wait_seconds", 0.2)
    body, key, token = new_message(), str(uuid.uuid4()), make_token()
    async with (
        new_client(committing_app, token) as first,
        new_client(committing_app, token) as second,
    ):
        async with engine.connect() as blocker, blocker.begin():
            # the first request stalls
            await blocker.execute(text("LOCK TABLE messages IN SHARE MODE"))
            running = asyncio.create_task(
                first.post(MESSAGES, json=body, headers=with_key(key))
            )
            await wait_for_lock_waits(engine, 1)
            # a key claimed without a lock_timeout would wait here for good
            async with asyncio.timeout(10):
                retry = await second.post(
                    MESSAGES, json=body, headers=with_key(key)
                )
        created = await running
        later = await second.post(MESSAGES, json=body, headers=with_key(key))

    assert retry.status_code == 409
    assert retry.json()["title"] == "Request in progress"
    assert (
        retry.json()["detail"]
        == "A request with this Idempotency-Key is still being processed;"
        " retry it later."
    )
    assert (created.status_code, later.status_code) == (201, 201)
    # once the first one finished, the retry gets its response
    assert later.json() == created.json()


# --8<-- [end:test_in_flight]


# --8<-- [start:test_purge]
async def test_the_purge_removes_expired_keys_only(
    session: AsyncSession,
) -> None:
    now = datetime.now(UTC)
    async with session.begin():
        session.add_all(
            IdempotencyKey(
                principal="user-1",
                key=f"k{hours}",
                fingerprint="f",
                expires_at=now + timedelta(hours=hours),
            )
            for hours in (-48, -2, -1, 1)
        )

    # two batches: 2, then 1
    purged = await purge_expired_idempotency_keys(session, batch_size=2)

    assert purged == 3
    async with session.begin():
        left = (
            (await session.execute(select(col(IdempotencyKey.key))))
            .scalars()
            .all()
        )
    assert left == ["k1"]


@pytest.mark.usefixtures("celery_worker")
async def test_the_hourly_task_purges_expired_keys(
    engine: AsyncEngine, settings: Settings
) -> None:
    principal = f"purge-{uuid.uuid4().hex[:8]}"
    expired = IdempotencyKey(
        principal=principal,
        key="k",
        fingerprint="f",
        expires_at=datetime.now(UTC),
    )
    async with AsyncSession(engine) as session, session.begin():
        session.add(expired)

    # run by the worker; the outcome is in the table
    celery_app.send_task(PURGE_IDEMPOTENCY_KEYS_TASK)

    left = -1
    for _ in range(300):
        async with AsyncSession(engine) as session:
            left = await stored_keys(session, principal)
        if left == 0:
            break
        await asyncio.sleep(0.1)
    assert left == 0, "the task never removed the expired key"
    entry = celery_config(settings)["beat_schedule"][
        "purge-expired-idempotency-keys"
    ]
    # hourly
    assert (entry["task"], entry["schedule"]) == (
        PURGE_IDEMPOTENCY_KEYS_TASK,
        crontab(minute=30),
    )


# --8<-- [end:test_purge]
