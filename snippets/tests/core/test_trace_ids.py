"""trace_id and span_id: a log line, the span a collector receives and the
Sentry event name the same ones.
"""

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from asgi_lifespan import LifespanManager
from celery import Celery
from httpx import ASGITransport, AsyncClient
from loguru import logger
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import format_span_id, format_trace_id
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.core.tracing import create_tracer_provider, instrument_celery
from app.main import create_app
from tests.core.otlp_collector import OtlpCollector


class KeepingTransport(Transport):
    """Keeps the events Sentry would send, instead of sending them."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.events += [
            item.payload.json
            for item in envelope.items
            if item.type == "event" and item.payload.json
        ]


@pytest.fixture
def stream(settings: Settings) -> Iterator[io.StringIO]:
    """A buffer the JSON lines go to; afterwards the process logs to stderr
    again.
    """
    buffer = io.StringIO()
    yield buffer
    configure_logging(settings, sys.stderr)


@pytest.fixture
def traced_and_reported(
    settings: Settings,
    collector: OtlpCollector,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Tracing to the test's collector and Sentry on, both from the environment
    as in production.
    """
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv(
        "SENTRY_DSN", "https://public-key@sentry.example.com/42"
    )
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    sentry_sdk.get_client().close()
    # back to the no-op client for the other tests
    sentry_sdk.get_global_scope().set_client(None)
    # the lifespan instrumented its engine and publishing
    SQLAlchemyInstrumentor().uninstrument()
    CeleryInstrumentor().uninstrument()  # type: ignore[no-untyped-call]


# --8<-- [start:test_trace_ids_in_logs]
async def test_log_lines_sentry_and_the_trace_share_trace_id_and_span_id(
    traced_and_reported: None, collector: OtlpCollector, stream: io.StringIO
) -> None:
    app = create_app()  # production wiring: tracing and Sentry on
    transport = KeepingTransport(sentry_sdk.get_client().options)
    sentry_sdk.get_client().transport = transport
    # the same JSON lines, into a buffer the test reads
    configure_logging(get_settings(), stream)

    @app.post("/orders/{order_id}/pay")
    async def pay(order_id: int) -> None:
        logger.info("charging order {order_id}", order_id=order_id)
        raise RuntimeError(f"payment provider rejected order {order_id}")

    logger.info("outside any request")
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(
                app=manager.app, raise_app_exceptions=False
            ),
            base_url="http://t",
        ) as client,
    ):
        response = await client.post("/orders/7/pay")
    # The lifespan ended: the provider was shut down and its last spans
    # exported.

    assert response.status_code == 500
    lines = {
        line["message"]: line
        for line in map(json.loads, stream.getvalue().splitlines())
    }
    [server] = [
        span
        for span in collector.spans()
        if span.name == "POST /orders/{order_id}/pay"
    ]
    # 32 and 16 hex digits
    ids = {
        "trace_id": server.trace_id.hex(),
        "span_id": server.span_id.hex(),
    }
    for message in ("charging order 7", "unhandled error on /orders/7/pay"):
        assert {key: lines[message].get(key) for key in ids} == ids
    # no span, no made-up ids
    assert "trace_id" not in lines["outside any request"]
    [event] = transport.events
    # the Sentry event joins too
    assert {key: event["contexts"]["trace"][key] for key in ids} == ids


# --8<-- [end:test_trace_ids_in_logs]


def log_inside_the_task() -> None:
    """A task body that logs."""
    logger.info("inside the task")


def test_a_line_logged_in_a_celery_task_carries_the_task_spans_ids(
    settings: Settings, stream: io.StringIO
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = create_tracer_provider(settings, exporter)
    task = Celery("trace-ids-test").task(name="trace_ids.log")(
        log_inside_the_task
    )
    configure_logging(settings, stream)

    # what each worker process does at `worker_process_init`
    instrument_celery(tracer_provider)
    try:
        # runs in this process, through the same signals a worker sends
        task.apply()
    finally:
        CeleryInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    tracer_provider.shutdown()

    [run] = exporter.get_finished_spans()
    [line] = [
        json.loads(text)
        for text in stream.getvalue().splitlines()
        if "inside the task" in text
    ]
    assert run.name == "run/trace_ids.log"
    assert (line["trace_id"], line["span_id"]) == (
        format_trace_id(run.context.trace_id),
        format_span_id(run.context.span_id),
    )
