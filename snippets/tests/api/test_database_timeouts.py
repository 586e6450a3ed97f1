"""A statement PostgreSQL cancelled at a time limit comes back as a 503 problem
with Retry-After.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.api.database_errors import RETRY_AFTER_SECONDS
from app.api.problem_details import PROBLEM_JSON
from app.core.config import Settings
from app.db.database import (
    SessionDep,
    create_engine,
    create_session_factory,
    get_session,
)
from app.main import create_app

MESSAGES = "/api/v1/messages"
SHORT = 0.3
LONG = 30.0


@pytest_asyncio.fixture
async def client_with_limits(
    request: pytest.FixtureRequest,
    settings: Settings,
    redis: Redis,
    make_token: Callable[..., str],
) -> AsyncIterator[AsyncClient]:
    """The service on an engine whose statement and lock limits the test
    chooses (`indirect`), signed in.
    """
    statement_timeout, lock_timeout = request.param
    limits = {
        "database_statement_timeout_seconds": statement_timeout,
        "database_lock_timeout_seconds": lock_timeout,
    }
    engine = create_engine(settings.model_copy(update=limits))
    session_factory = create_session_factory(engine)
    app = create_app()

    async def session_with_limits() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            yield session

    async def divide_by_zero(session: SessionDep) -> None:
        # a database error that is no timeout
        await session.execute(text("SELECT 1 / 0"))

    app.dependency_overrides[get_session] = session_with_limits
    app.add_api_route("/divide-by-zero", divide_by_zero)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        headers = {"Authorization": f"Bearer {make_token()}"}
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client
    await engine.dispose()


def assert_service_unavailable(
    response_status: int, headers: dict[str, str], problem: dict[str, object]
) -> None:
    assert response_status == 503
    assert headers["content-type"] == PROBLEM_JSON
    assert headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert problem["title"] == "Service Unavailable"


# --8<-- [start:test_timeout_answers]
@pytest.mark.parametrize("client_with_limits", [(SHORT, LONG)], indirect=True)
async def test_a_statement_cancelled_by_statement_timeout_is_a_503(
    client_with_limits: AsyncClient,
    engine: AsyncEngine,
    logged_warnings: list[dict[str, Any]],
) -> None:
    # a second connection makes the read wait past statement_timeout
    async with engine.connect() as holder:
        await holder.execute(
            text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        )
        response = await client_with_limits.get(MESSAGES)
        await holder.rollback()

    assert_service_unavailable(
        response.status_code, dict(response.headers), response.json()
    )
    # SQLSTATE 57014
    assert [record["extra"]["limit"] for record in logged_warnings] == [
        "statement_timeout"
    ]


@pytest.mark.parametrize("client_with_limits", [(LONG, SHORT)], indirect=True)
async def test_a_write_cancelled_by_lock_timeout_is_a_503_and_changes_nothing(
    client_with_limits: AsyncClient,
    engine: AsyncEngine,
    logged_warnings: list[dict[str, Any]],
) -> None:
    client_ref = f"lock-{uuid.uuid4().hex[:8]}"
    message = {
        "channel": "email",
        "recipient": "ada@example.com",
        "body": "Hi",
        "client_ref": client_ref,
    }
    async with engine.connect() as holder:
        await holder.execute(
            text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        )
        response = await client_with_limits.post(MESSAGES, json=message)
        await holder.rollback()
        stored = await holder.scalar(
            text("SELECT count(*) FROM messages WHERE client_ref = :ref"),
            {"ref": client_ref},
        )

    assert_service_unavailable(
        response.status_code, dict(response.headers), response.json()
    )
    # SQLSTATE 55P03
    assert [record["extra"]["limit"] for record in logged_warnings] == [
        "lock_timeout"
    ]
    # the insert's transaction was rolled back whole: retrying is safe
    assert stored == 0


# --8<-- [end:test_timeout_answers]


@pytest.mark.parametrize("client_with_limits", [(LONG, LONG)], indirect=True)
async def test_another_database_error_is_still_a_500(
    client_with_limits: AsyncClient,
) -> None:
    response = await client_with_limits.get("/divide-by-zero")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "retry-after" not in response.headers


@pytest.mark.parametrize("client_with_limits", [(LONG, LONG)], indirect=True)
async def test_a_statement_an_operator_cancelled_is_a_500_not_a_timeout(
    client_with_limits: AsyncClient, engine: AsyncEngine
) -> None:
    async with engine.connect() as holder:
        await holder.execute(
            text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        )
        request = asyncio.create_task(client_with_limits.get(MESSAGES))
        async with engine.connect() as operator:
            waiting: list[int] = []
            while not waiting:  # the request's backend, queued behind the lock
                await asyncio.sleep(0.05)
                found = await operator.execute(
                    text(
                        "SELECT pid FROM pg_locks WHERE relation ="
                        " 'messages'::regclass AND NOT granted"
                    )
                )
                waiting = list(found.scalars())
            # What an operator runs from pg_stat_activity; PostgreSQL raises
            # 57014 "due to user request".
            await operator.execute(
                text("SELECT pg_cancel_backend(:pid)"), {"pid": waiting[0]}
            )
        response = await request
        await holder.rollback()

    # not "retry in 1 s": the same query would be cancelled again
    assert response.status_code == 500
    assert "retry-after" not in response.headers
