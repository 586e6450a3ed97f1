"""Shutdown: the lifespan closes the pool's connections, and a real uvicorn
stops cleanly on SIGTERM.

The same real server shows what its log holds about a request: no client
address.
"""

import asyncio
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.main import create_app, lifespan


async def backend_is_alive(engine: AsyncEngine, pid: int) -> bool:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        )
    return bool(found)


async def redis_is_connected(redis: Redis, client_id: int) -> bool:
    return any(
        int(client["id"]) == client_id for client in await redis.client_list()
    )


# --8<-- [start:test_lifespan_disposes_engine]
async def test_the_lifespan_closes_its_connections_at_shutdown(
    settings: Settings, engine: AsyncEngine, redis: Redis
) -> None:
    app = create_app()
    async with lifespan(app) as state:
        async with state["session_factory"]() as session:
            # the pooled connection's server process
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        assert pid is not None
        # the session is closed; the pool keeps its connection...
        assert await backend_is_alive(engine, pid)
        # the Redis pool's connection, as the server knows it
        redis_client = await state["redis"].client_id()
        assert await redis_is_connected(redis, redis_client)

    # ...until the lifespan ends: `engine.dispose()` closes it, and the server
    # process goes away.
    for _ in range(50):
        # the server process exits a moment after the client hangs up
        await asyncio.sleep(0.02)
        if not await backend_is_alive(engine, pid):
            break
    assert not await backend_is_alive(engine, pid)
    # `redis.aclose()` hung up too
    assert not await redis_is_connected(redis, redis_client)


# --8<-- [end:test_lifespan_disposes_engine]


@pytest.fixture
def server(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """`uvicorn --factory app.main:create_app` in its own process, as the
    container runs it.

    Without the image's `--ws none`: WebSocket upgrades are then logged, and
    the filter is tested.
    """
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.main:create_app",
    ]
    command += [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--timeout-graceful-shutdown",
        "5",
    ]
    environment = os.environ | {
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "REDIS_URL": settings.redis_url.get_secret_value(),
        "ENVIRONMENT": "test",
    }
    process = subprocess.Popen(
        command, env=environment, stderr=subprocess.PIPE, text=True
    )
    yield process
    if process.poll() is None:  # the test failed before it stopped the server
        process.kill()
    process.wait(timeout=10)
    assert process.stderr is not None
    process.stderr.close()


def read_until(
    process: subprocess.Popen[str], message_start: str
) -> list[dict[str, Any]]:
    """Parse the server's log lines, each of them JSON, up to the first that
    starts with `message_start`.
    """
    assert process.stderr is not None
    lines = []
    for raw in process.stderr:
        lines.append(json.loads(raw))
        if lines[-1]["message"].startswith(message_start):
            return lines
    raise AssertionError(
        f"the server exited before logging {message_start!r}: {lines}"
    )


# --8<-- [start:test_sigterm]
def test_uvicorn_logs_json_and_shuts_down_cleanly_on_sigterm(
    server: subprocess.Popen[str],
) -> None:
    started = read_until(server, "Uvicorn running on")
    # "Uvicorn running on http://127.0.0.1:PORT (Press CTRL+C to quit)"
    address = started[-1]["message"].split()[3]
    assert httpx.get(f"{address}/livez").json() == {"status": "ok"}

    # what Kubernetes sends first when it stops a pod
    server.send_signal(signal.SIGTERM)
    stopped = read_until(server, "Finished server process")

    # After its clean shutdown, uvicorn re-raises the signal, so the supervisor
    # sees why it stopped.
    assert server.wait(timeout=10) == -signal.SIGTERM
    messages = [line["message"] for line in stopped]
    assert "Waiting for application shutdown." in messages
    # the lifespan's `finally` ran: pools closed
    assert "Application shutdown complete." in messages
    assert {line["logger"] for line in started + stopped} >= {
        "uvicorn.error",
        "uvicorn.access",
    }


# --8<-- [end:test_sigterm]


# --8<-- [start:test_no_client_address]
def test_the_server_log_holds_no_client_address(
    server: subprocess.Popen[str],
) -> None:
    started = read_until(server, "Uvicorn running on")
    address = started[-1]["message"].split()[3]
    # the client is the peer, 127.0.0.1:PORT
    assert httpx.get(f"{address}/livez").status_code == 200
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default (production
    # trusts its proxy's address).
    assert (
        httpx.get(
            f"{address}/livez", headers={"X-Forwarded-For": "203.0.113.9"}
        ).status_code
        == 200
    )
    # A WebSocket upgrade is logged on uvicorn.error, not uvicorn.access; no
    # route accepts it.
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "X-Forwarded-For": "203.0.113.9",
    }
    upgrade |= {
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    assert httpx.get(f"{address}/livez", headers=upgrade).status_code == 403

    server.send_signal(signal.SIGTERM)
    lines = started + read_until(server, "Finished server process")

    access = [
        line["message"] for line in lines if line["logger"] == "uvicorn.access"
    ]
    # each request still logged, without its client
    assert access == ['- - "GET /livez HTTP/1.1" 200'] * 2
    # the upgrade was logged
    assert any('"WebSocket /livez" 403' in line["message"] for line in lines)
    assert "203.0.113.9" not in json.dumps(lines)
    assert "127.0.0.1:" not in json.dumps(
        [line for line in lines if "Uvicorn running on" not in line["message"]]
    )


# --8<-- [end:test_no_client_address]


def test_a_server_started_through_a_shell_never_gets_the_sigterm(
    tmp_path: Path,
) -> None:
    """`sh -c "..."` (what a Dockerfile's shell-form `CMD` runs) stays the
    server's parent and keeps SIGTERM.

    This holds where `/bin/sh` is dash (Debian and Ubuntu, the service's image
    included): dash forks the command. bash (`/bin/sh` on macOS, Fedora, RHEL)
    execs a lone `-c` command, so there the server is the shell's process and
    this test fails at its first assertion.
    """
    received, pid_file = tmp_path / "received-sigterm", tmp_path / "server-pid"
    server = (
        "import os, pathlib, signal, time\n"
        "signal.signal(signal.SIGTERM, lambda *_:"
        f" pathlib.Path({str(received)!r}).touch())\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        "time.sleep(30)\n"
    )
    shell = subprocess.Popen(
        ["/bin/sh", "-c", f"{sys.executable} -c {shlex.quote(server)}"]
    )
    child = None
    try:
        deadline = time.monotonic() + 10
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline, "the server never started"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        # the shell did not exec the server: it stays, as its parent
        assert child != shell.pid

        shell.send_signal(signal.SIGTERM)
        shell.wait(timeout=5)
        time.sleep(1)  # ample time for a forwarded signal to arrive

        # the server never heard of the shutdown...
        assert not received.exists()
        os.kill(
            child,
            0,
            # ...and still runs: only the kubelet's SIGKILL after the grace
            # period ends it
        )
    finally:
        shell.kill()
        shell.wait()
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
