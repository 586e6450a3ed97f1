"""Blocking calls in async code: what they do to the event loop, and what
catches them.
"""

import ast
import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import redis
import redis.asyncio

SERVICE_ROOT = Path(__file__).resolve().parents[1]


async def test_a_synchronous_redis_call_in_async_code_stops_every_other_task(
    redis_url: str,
) -> None:
    ticks = 0

    async def another_request() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    other = asyncio.create_task(another_request())
    await asyncio.sleep(0.05)
    empty_list = f"never-filled-{uuid.uuid4()}"
    blocking, non_blocking = (
        redis.Redis.from_url(redis_url),
        redis.asyncio.Redis.from_url(redis_url),
    )
    try:
        before = ticks
        # waits 1 s on the socket, holding the loop
        blocking.blpop([empty_list], timeout=1)
        while_blocking = ticks - before
        before = ticks
        # waits 1 s, yielding to the loop
        await non_blocking.blpop([empty_list], timeout=1)
        while_awaiting = ticks - before
    finally:
        other.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await other
        blocking.close()
        await non_blocking.aclose()

    # the other task did not run once in that second
    assert while_blocking == 0
    # about 100 turns at 10 ms; fewer on a busy machine
    assert while_awaiting > 5


def synchronous_redis_uses(root: Path) -> list[str]:
    """`file:line name` for each use of the synchronous Redis client
    (`redis.asyncio` is the async one).
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "redis"
            ):
                names = [f"redis.{node.attr}"]
            elif isinstance(node, ast.ImportFrom) and node.module in {
                "redis",
                "redis.client",
            }:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [
                f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)} {name}"
                for name in names
                if name
                in {
                    "redis.Redis",
                    "redis.StrictRedis",
                    "redis.client.Redis",
                    "redis.from_url",
                }
            ]
    return found


def test_the_service_uses_only_the_asyncio_redis_client(
    tmp_path: Path,
) -> None:
    (tmp_path / "planted.py").write_text(
        "import redis\nfrom redis import Redis\nclient = redis.Redis()\n"
    )

    assert synchronous_redis_uses(tmp_path) == [
        "planted.py:2 redis.Redis",
        "planted.py:3 redis.Redis",
    ]
    # The one synchronous client: the queue gauge, read in the metrics
    # exporter's own thread, where no event loop runs (app/core/metrics.py);
    # everything that runs on the event loop uses `redis.asyncio`.
    metrics = (SERVICE_ROOT / "app/core/metrics.py").read_text().splitlines()
    line = metrics.index("from redis import Redis") + 1
    assert synchronous_redis_uses(SERVICE_ROOT / "app") == [
        f"core/metrics.py:{line} redis.Redis"
    ]


BLOCKING_CALLS = """\
import time
import urllib.request

import requests


async def handler() -> None:
    time.sleep(1)
    requests.get("https://example.com", timeout=1)
    urllib.request.urlopen("https://example.com")
"""


def test_ruff_reports_blocking_calls_in_async_functions() -> None:
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--output-format=json",
            "--stdin-filename=app/planted.py",
            "-",
        ],
        input=BLOCKING_CALLS,
        cwd=SERVICE_ROOT,  # the service's own rules, from its pyproject.toml
        capture_output=True,
        text=True,
        check=False,
    )

    reported = {
        (problem["location"]["row"], problem["code"])
        for problem in json.loads(lint.stdout)
    }
    assert {(8, "ASYNC251"), (9, "ASYNC210"), (10, "ASYNC210")} <= reported
