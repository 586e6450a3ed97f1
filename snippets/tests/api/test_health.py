"""Liveness and readiness, with the database up, refusing, and silent."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core.config import Settings
from app.db.database import get_session
from app.db.redis import get_redis
from app.main import create_app


async def test_livez_does_no_io(client: AsyncClient) -> None:
    response = await client.get("/livez")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_with_the_database_up(client: AsyncClient) -> None:
    response = await client.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def use_database_at(app: FastAPI, url: str) -> None:
    """Point the app's sessions at another server, as if the database moved or
    died.
    """

    async def session_on_other_server() -> AsyncIterator[AsyncSession]:
        engine = create_async_engine(url)
        async with AsyncSession(engine) as session:
            yield session
        await engine.dispose()

    app.dependency_overrides[get_session] = session_on_other_server


# --8<-- [start:test_readyz_unreachable]
async def test_readyz_is_503_when_the_database_refuses(
    app: FastAPI, client: AsyncClient
) -> None:
    # nothing listens on port 1
    use_database_at(app, "postgresql+asyncpg://postgres@127.0.0.1:1/postgres")

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "database: ConnectionRefusedError"


# --8<-- [end:test_readyz_unreachable]


# --8<-- [start:test_readyz_refused_by_the_server]
REFUSALS: dict[str, tuple[Callable[[URL], URL], str]] = {
    "no such database": (
        lambda url: url.set(database="does_not_exist"),
        "InvalidCatalogNameError",
    ),
    "no such user": (
        lambda url: url.set(username="does_not_exist"),
        "InvalidAuthorizationSpecificationError",
    ),
}
"""The server answers and says no. These stand for a wrong password, too many
connections or a server still starting up: each is a `PostgresError` from
asyncpg, not an `OSError`."""


@pytest.mark.parametrize("refusal", REFUSALS)
async def test_readyz_is_503_when_the_server_refuses_the_session(
    app: FastAPI, client: AsyncClient, settings: Settings, refusal: str
) -> None:
    refuse, error = REFUSALS[refusal]
    use_database_at(
        app,
        refuse(settings.sqlalchemy_database_url).render_as_string(
            hide_password=False
        ),
    )

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["detail"] == f"database: {error}"


# --8<-- [end:test_readyz_refused_by_the_server]


async def test_readyz_is_503_when_the_database_hangs(
    app: FastAPI, client: AsyncClient
) -> None:
    client_gave_up = asyncio.Event()

    async def accept_and_say_nothing(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()  # returns once the client closes its end
        writer.close()
        await writer.wait_closed()
        client_gave_up.set()

    silent = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    use_database_at(
        app, f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    )
    async with silent:
        response = await client.get("/readyz")
        await asyncio.wait_for(client_gave_up.wait(), timeout=5)

    assert response.status_code == 503
    assert response.json()["detail"] == "database: TimeoutError"


async def test_database_down_is_a_500_problem_without_internals(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    use_database_at(app, "postgresql+asyncpg://postgres@127.0.0.1:1/postgres")
    # answer as a server would
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {make_token()}"}
    async with AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as client:
        response = await client.get("/api/v1/messages")

    assert response.status_code == 500
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/api/v1/messages",
    }


async def test_readyz_through_the_production_session_dependency(
    settings: object,
) -> None:
    # no overrides: the lifespan's engine and `get_session` serve the request
    app = create_app()
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app), base_url="http://test"
        ) as client,
    ):
        response = await client.get("/readyz")

    assert response.status_code == 200


async def test_readyz_names_redis_when_it_is_down(
    app: FastAPI, client: AsyncClient
) -> None:
    # nothing listens on port 1
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    app.dependency_overrides[get_redis] = lambda: down

    response = await client.get("/readyz")
    await down.aclose()

    assert response.status_code == 503
    assert response.json()["detail"] == "redis: ConnectionError"
