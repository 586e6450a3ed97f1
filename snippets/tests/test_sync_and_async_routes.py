"""`def` and `async def` routes: the thread pool `def` runs in, and what one
blocking call does to a process.
"""

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio.to_thread
import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

SLOW = 1.0  # seconds each slow route waits


async def wait_until(
    condition: Callable[[], bool], within: float = 30
) -> None:
    """Poll `condition` until it holds, for at most `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true within {within} s"
        await asyncio.sleep(0.01)


@dataclass
class Blocked:
    """`def` code that holds its thread until the test releases it, counting
    the threads inside.
    """

    inside: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def __call__(self) -> None:
        with self.lock:
            self.inside += 1
        self.released.wait(timeout=30)


def blocking_app(blocked: Blocked) -> FastAPI:
    """Three routes: a `def` one that blocks, an `async def` one, and an `async
    def` one with a `def` dependency.
    """
    app = FastAPI()

    @app.get("/def")
    def blocking_route() -> None:
        blocked()

    @app.get("/async")
    async def async_route() -> str:
        return "answered"

    # a plain `def` dependency runs in the same pool as `def` routes
    def sync_dependency() -> str:
        return "from a thread"

    @app.get("/async-with-def-dependency")
    async def async_route_with_def_dependency(
        value: Annotated[str, Depends(sync_dependency)],
    ) -> str:
        return value

    return app


# --8<-- [start:test_thread_pool_limit]
async def test_the_41st_blocking_def_request_waits_for_a_thread() -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    # anyio's default: 40 threads per event loop, so per process
    assert limiter.total_tokens == 40

    blocked = Blocked()
    app = blocking_app(blocked)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        requests = [asyncio.create_task(client.get("/def")) for _ in range(41)]
        try:
            await wait_until(lambda: blocked.inside == 40)
            with_def_dependency = asyncio.create_task(
                client.get("/async-with-def-dependency")
            )
            # needs no thread: answered at once
            plain_async = await client.get("/async")
            await asyncio.sleep(0.5)

            assert plain_async.text == '"answered"'
            # the 41st request is waiting for a free thread
            assert blocked.inside == 40
            # and so is any route with a `def` dependency
            assert not with_def_dependency.done()
        finally:
            blocked.released.set()
        answers = await asyncio.gather(*requests, with_def_dependency)

    assert blocked.inside == 41
    assert {answer.status_code for answer in answers} == {200}


# --8<-- [end:test_thread_pool_limit]


async def test_the_service_routes_wait_for_a_thread_while_the_pool_is_taken(
    client: httpx.AsyncClient,
) -> None:
    # the loop the in-process app runs on
    limiter = anyio.to_thread.current_default_thread_limiter()
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:  # as 40 blocking calls in flight would
        await limiter.acquire_on_behalf_of(holder)
    try:
        listing = asyncio.create_task(client.get("/api/v1/messages"))
        await asyncio.sleep(0.5)
        # `MessagingService` is a class dependency: FastAPI builds it in a
        # thread
        assert not listing.done()
    finally:
        for holder in holders:
            limiter.release_on_behalf_of(holder)
    assert (await listing).status_code == 200


# --8<-- [start:set_thread_pool_size]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Raise the thread limit of the loop that serves the app; it is per event
    loop, so set it at start-up.
    """
    limiter = anyio.to_thread.current_default_thread_limiter()
    default = limiter.total_tokens
    limiter.total_tokens = 100
    yield
    limiter.total_tokens = (
        default  # only for the tests, which share one event loop
    )


# --8<-- [end:set_thread_pool_size]


async def test_a_larger_limit_set_at_start_up_lets_every_blocking_request_in() -> (
    None
):
    blocked = Blocked()
    app = blocking_app(blocked)
    app.router.lifespan_context = lifespan
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://test",
        ) as client,
    ):
        requests = [asyncio.create_task(client.get("/def")) for _ in range(41)]
        try:
            await wait_until(lambda: blocked.inside == 41)
            assert (
                anyio.to_thread.current_default_thread_limiter().total_tokens
                == 100
            )
        finally:
            blocked.released.set()
        await asyncio.gather(*requests)

    assert anyio.to_thread.current_default_thread_limiter().total_tokens == 40


# --8<-- [start:four_ways_to_wait]
app = FastAPI()


@app.get("/async-time-sleep")
async def async_time_sleep() -> None:
    # Holds the event loop: nothing else in the process runs.
    time.sleep(SLOW)  # noqa: ASYNC251


@app.get("/def-time-sleep")
def def_time_sleep() -> None:
    time.sleep(SLOW)  # holds one thread of the pool; the event loop goes on


@app.get("/async-asyncio-sleep")
async def async_asyncio_sleep() -> None:
    await asyncio.sleep(SLOW)  # gives the loop back while it waits


@app.get("/async-run-in-threadpool")
async def async_run_in_threadpool() -> None:
    # blocking code moved to the pool, awaited
    await run_in_threadpool(time.sleep, SLOW)


@app.get("/ping")
async def ping() -> None:
    return None


# --8<-- [end:four_ways_to_wait]


@dataclass
class Timeline:
    """Wraps the app: when each request's handling started and ended, on the
    server's own clock.
    """

    app: Any
    times: dict[str, float] = field(default_factory=dict)
    slow_started: threading.Event = field(default_factory=threading.Event)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Any,  # noqa: ANN401 (ASGI)
        send: Any,  # noqa: ANN401 (ASGI)
    ) -> None:
        self.times[f"{scope['path']} start"] = time.monotonic()
        if scope["path"] != "/ping":
            self.slow_started.set()
        await self.app(scope, receive, send)
        self.times[f"{scope['path']} end"] = time.monotonic()


@pytest.fixture
def served() -> Iterator[tuple[str, Timeline]]:
    """The app above, served by a real uvicorn (one event loop) in a thread;
    its base URL and timeline.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    timeline = Timeline(app)
    server = uvicorn.Server(
        uvicorn.Config(
            timeline,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", timeline
    server.should_exit = True
    thread.join(timeout=10)


# --8<-- [start:test_blocking_the_event_loop]
@pytest.mark.parametrize(
    ("slow_route", "stalls_others"),
    [
        ("/async-time-sleep", True),
        ("/def-time-sleep", False),
        ("/async-asyncio-sleep", False),
        ("/async-run-in-threadpool", False),
    ],
)
async def test_a_blocking_call_in_async_def_stalls_every_other_request(
    served: tuple[str, Timeline], slow_route: str, *, stalls_others: bool
) -> None:
    base_url, timeline = served
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        slow = asyncio.create_task(client.get(slow_route))
        await asyncio.to_thread(timeline.slow_started.wait, 10)
        # another request, on another connection, while the slow one runs
        await client.get("/ping")
        await slow

    slow_started, slow_ended = (
        timeline.times[f"{slow_route} start"],
        timeline.times[f"{slow_route} end"],
    )
    if stalls_others:
        # The server could not even start on /ping until the slow request's
        # second was over.
        assert (
            timeline.times["/ping start"] >= slow_ended >= slow_started + SLOW
        )
    else:
        # answered while the slow request was still waiting
        assert timeline.times["/ping end"] < slow_ended


# --8<-- [end:test_blocking_the_event_loop]
