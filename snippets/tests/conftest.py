"""Fixtures shared by every test of the service: real PostgreSQL, real
migrations, one rollback per test.
"""

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from celery.contrib.testing.worker import start_worker
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from loguru import logger
from redis.asyncio import Redis
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from app.celery_app import celery_app
from app.core.config import Settings, get_settings
from app.db.database import create_engine, get_session
from app.main import create_app
from tests.principals import OWNER

# The PostgreSQL and Redis fixtures (`postgres_server`, `database_url`,
# `redis_url`, ...), as a plugin.
pytest_plugins = ["tests.servers"]


# --8<-- [start:settings]
@pytest.fixture(scope="session")
def settings(database_url: URL, redis_url: str) -> Iterator[Settings]:
    """The service's own settings, pointed at the test servers through the
    environment.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "DATABASE_URL", database_url.render_as_string(hide_password=False)
        )
        patch.setenv("REDIS_URL", redis_url)
        patch.setenv("ENVIRONMENT", "test")
        patch.setenv("READINESS_TIMEOUT_SECONDS", "0.5")
        patch.setenv(
            "JWT_SECRET", "test-only-secret-with-at-least-32-characters"
        )
        patch.setenv("JWT_ISSUER", "https://auth.test/")
        patch.setenv("CORS_ALLOW_ORIGINS", '["https://app.test"]')
        # The webhook receiver in the tests listens on loopback, which
        # production refuses.
        patch.setenv(
            "WEBHOOK_ALLOWED_PRIVATE_NETWORKS", '["127.0.0.0/8", "::1/128"]'
        )
        get_settings.cache_clear()
        yield get_settings()
    get_settings.cache_clear()


# --8<-- [end:settings]


# --8<-- [start:transaction_per_test]
@pytest_asyncio.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The production engine factory, built once for the whole run."""
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection per test, inside a transaction that is always rolled
    back.
    """
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def session_factory(
    connection: AsyncConnection,
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection. A service's `session.begin()` becomes
    a SAVEPOINT, so its commit and rollback work as in production and the outer
    rollback still undoes all."""
    return async_sessionmaker(
        connection,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


@pytest_asyncio.fixture
async def session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for tests that call tables or services directly."""
    async with session_factory() as session:
        yield session


# --8<-- [end:transaction_per_test]


# --8<-- [start:make_token]
@pytest.fixture
def make_token(settings: Settings) -> Callable[..., str]:
    """Sign an access token as the issuer would; keyword arguments override or
    add claims.
    """

    def make(**claims: object) -> str:
        now = datetime.now(UTC)
        payload = {
            "sub": OWNER,
            "scope": "messages:write webhooks:write",
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": now,
            "exp": now + timedelta(minutes=5),
        } | claims
        return jwt.encode(
            payload, settings.jwt_secret.get_secret_value(), algorithm="HS256"
        )

    return make


# --8<-- [end:make_token]


# --8<-- [start:client]
@pytest.fixture
def app(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> FastAPI:
    """A fresh application whose requests use the test's connection and an
    emptied Redis.
    """
    app = create_app()

    async def session_in_test_transaction() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            yield session

    app.dependency_overrides[get_session] = session_in_test_transaction
    return app


@pytest_asyncio.fixture
async def client(
    app: FastAPI, make_token: Callable[..., str]
) -> AsyncIterator[AsyncClient]:
    """An HTTP client calling the app in-process, with its lifespan run as a
    server would, signed in.
    """
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {make_token()}"}
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client


@pytest_asyncio.fixture
async def anonymous_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """The same, without credentials; unhandled errors come back as the 500 a
    server would send.
    """
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(
            transport=transport, base_url="http://test"
        ) as client:
            yield client


# --8<-- [end:client]


# --8<-- [start:committed_data]
@pytest_asyncio.fixture
async def committed_session(
    engine: AsyncEngine,
) -> AsyncIterator[AsyncSession]:
    """A session whose commits are real, for tests where another process (a
    Celery worker) must see the data. It empties the tables it may have filled
    afterwards."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "TRUNCATE webhook_deliveries, webhooks, message_deliveries,"
                " messages"
            )
        )


# --8<-- [end:committed_data]


# --8<-- [start:celery_worker]
@pytest.fixture
def celery_worker(settings: Settings, redis: Redis) -> Iterator[None]:
    """A real Celery worker consuming from the test Redis, in a thread of this
    process.
    """
    assert celery_app.conf.broker_url == settings.redis_url.get_secret_value()
    # The worker's BRPOP on Redis waits up to 1 s before it notices the stop at
    # a test's end; kombu takes that wait from `polling_interval`, so 0.1 ends
    # each test up to 0.9 s sooner.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(
            celery_app.conf.broker_transport_options, "polling_interval", 0.1
        )
        with start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=10,
        ):
            yield


# --8<-- [end:celery_worker]


# --8<-- [start:failing_dependencies]
@contextmanager
def sending_tasks_to(url: str) -> Iterator[None]:
    """Tasks are sent to `url` inside the block; workers keep reading from the
    test Redis.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(celery_app.conf, "broker_write_url", url)
        # The pools hold connections to the real broker: set them aside, and
        # back afterwards.
        patch.setattr(celery_app, "_pool", None)
        patch.setattr(celery_app.amqp, "_producer_pool", None)
        yield


@pytest.fixture
def unreachable_broker(
    settings: Settings,
) -> Callable[[], AbstractContextManager[None]]:
    """`with unreachable_broker():` tasks are sent to a port nothing listens
    on, so `send_task` fails as it does when the broker is down; workers keep
    reading from the test Redis."""
    assert celery_app.conf.broker_url == settings.redis_url.get_secret_value()
    # nothing listens on port 1
    return lambda: sending_tasks_to("redis://127.0.0.1:1/0")


@pytest.fixture
def stalled_broker(
    settings: Settings,
) -> Iterator[Callable[[], AbstractContextManager[None]]]:
    """`with stalled_broker():` tasks are sent to a server that accepts
    connections and never reads or answers: a broker that hangs (paused,
    swapping, a dead network path) rather than refuses."""
    assert celery_app.conf.broker_url == settings.redis_url.get_secret_value()
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept_and_stay_silent() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was shut down: the test is over
                return
            # read by nobody: the kernel buffers what the client sends
            accepted.append(connection)

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    yield lambda: sending_tasks_to(
        f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    )
    # wakes the blocked accept(); a close alone does not on Linux
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    # a client still waiting gets end-of-file, not a hang
    for connection in accepted:
        connection.close()
    thread.join(timeout=5)


@pytest.fixture
def logged_warnings() -> Iterator[list[dict[str, Any]]]:
    """The records of the warnings the service logs during the test (Loguru's
    `record`).
    """
    records: list[dict[str, Any]] = []
    handler_id = logger.add(
        lambda message: records.append(dict(message.record)), level="WARNING"
    )
    yield records
    logger.remove(handler_id)


# --8<-- [end:failing_dependencies]
