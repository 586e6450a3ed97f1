"""OpenTelemetry traces: one provider per process, exported over OTLP/HTTP, and
the instrumented libraries.
"""

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter,
)
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, Status, StatusCode
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import URL

from app.core.config import Settings

PROBE_URLS = "/livez,/readyz"
"""Not traced: probes hit every few seconds and would bury the requests that
matter.
"""


CLIENT_ATTRIBUTES = (
    "net.peer.ip",
    "net.peer.port",
    "client.address",
    "client.port",
)
"""Where the ASGI instrumentation puts the peer's address and port (old and new
semantic conventions).
"""


# --8<-- [start:database_error_kind]
ERROR_CLASS = re.compile(r"<class '(?:\w+\.)*(\w+)'>")


def database_error_kind(span: ReadableSpan) -> ReadableSpan:
    """The span with a failed statement's error text cut to the error's class
    name.

    The SQLAlchemy instrumentation writes the driver's message into the status,
    and PostgreSQL's quotes row data: `Key (client_ref)=(...) already exists.`
    A trace keeps only `UniqueViolationError`.
    """
    attributes = span.attributes or {}
    description = span.status.description
    if "db.system" not in attributes or description is None:
        return span
    match = ERROR_CLASS.match(description)
    kind = match.group(1) if match else "database error"
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=Status(StatusCode.ERROR, kind),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class DatabaseErrorKindExporter(SpanExporter):
    """Wraps the real exporter: every span passes through `database_error_kind`
    on its way out.
    """

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export the spans, database error text reduced."""
        return self._exporter.export(
            [database_error_kind(span) for span in spans]
        )

    def shutdown(self) -> None:
        """Shut the real exporter down."""
        self._exporter.shutdown()


# --8<-- [end:database_error_kind]


# --8<-- [start:tracer_provider]
def service_resource(settings: Settings) -> Resource:
    """Who sends a span or a metric: the same three attributes on both, so they
    can be joined.
    """
    return Resource.create(
        {
            "service.name": settings.service_name,
            "service.version": settings.release,
            "deployment.environment.name": settings.environment,
        }
    )


def create_tracer_provider(
    settings: Settings, exporter: SpanExporter
) -> TracerProvider:
    """Spans tagged with who sent them, sampled per new trace, exported in
    batches off the request path.
    """
    resource = service_resource(settings)
    # A trace that started upstream keeps the caller's decision; new traces are
    # sampled by ratio.
    sampler = ParentBased(TraceIdRatioBased(settings.otel_traces_sample_rate))
    provider = TracerProvider(resource=resource, sampler=sampler)
    provider.add_span_processor(
        BatchSpanProcessor(DatabaseErrorKindExporter(exporter))
    )
    return provider


def configure_tracing(settings: Settings) -> TracerProvider | None:
    """Once per process (API or worker): export to the OTLP endpoint if one is
    set; None means tracing is off.
    """
    if settings.otel_exporter_otlp_endpoint is None:
        return None
    endpoint = f"{settings.otel_exporter_otlp_endpoint.rstrip('/')}/v1/traces"
    provider = create_tracer_provider(
        settings, OTLPSpanExporter(endpoint=endpoint)
    )
    # for spans our own code starts; OpenTelemetry takes one per process
    trace.set_tracer_provider(provider)
    return provider


# --8<-- [end:tracer_provider]


# --8<-- [start:instrument_libraries]
def drop_query_and_client(span: Span, scope: dict[str, Any]) -> None:
    """Record the URL without its query string: `?email=...` is user data, and
    the route says enough.

    The client's address and port are blanked too: an IP address is personal
    data. A span cannot lose an attribute, so the instrumentation's values are
    overwritten with `-`.
    """
    span.set_attribute("http.url", str(URL(scope=scope).replace(query="")))
    for key in CLIENT_ATTRIBUTES:
        span.set_attribute(key, "-")


def instrument_app(
    app: FastAPI, tracer_provider: TracerProvider | None
) -> None:
    """One server span per request, named after the route template; does
    nothing while tracing is off.
    """
    if tracer_provider is None:
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls=PROBE_URLS,
        # one span per request, not one per ASGI message
        exclude_spans=[
            "receive",
            "send",
        ],
        server_request_hook=drop_query_and_client,
    )


def instrument_engine(
    engine: AsyncEngine, tracer_provider: TracerProvider | None
) -> None:
    """One span per SQL statement, a child of the request's span; does nothing
    while tracing is off.
    """
    if tracer_provider is None:
        return
    # The async engine runs on a sync core: its events fire there. Statements
    # keep their placeholders; bound values are never recorded.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=tracer_provider
    )


def instrument_redis(
    client: Redis, tracer_provider: TracerProvider | None
) -> None:
    """One span per Redis command on this client; values are replaced by `?`.
    Does nothing while tracing is off."""
    if tracer_provider is None:
        return
    RedisInstrumentor.instrument_client(
        client, tracer_provider=tracer_provider
    )


def instrument_celery(tracer_provider: TracerProvider | None) -> None:
    """Spans for publishing and running tasks, linked to the request that
    enqueued them; does nothing while tracing is off.

    Call it in every process that sends or runs tasks: the API's lifespan, and
    each worker process (`worker_process_init`, after the pool forks) with the
    provider `configure_tracing` returned there. The trace context travels in
    the task message's headers, which only a traced sender writes.
    """
    if tracer_provider is None:
        return
    # The package is untyped.
    CeleryInstrumentor().instrument(  # type: ignore[no-untyped-call]
        tracer_provider=tracer_provider
    )


# --8<-- [end:instrument_libraries]
