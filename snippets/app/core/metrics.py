"""OpenTelemetry metrics: request duration and errors by route template, the
database pool and the Celery queue, exported over OTLP/HTTP."""

import time
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from loguru import logger
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter,
)
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    PeriodicExportingMetricReader,
)
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.tracing import service_resource


# --8<-- [start:meter_provider]
def create_meter_provider(
    settings: Settings, exporter: MetricExporter
) -> MeterProvider:
    """Instruments read and exported every
    `otel_metric_export_interval_seconds`, from a background thread.
    """
    reader = PeriodicExportingMetricReader(
        exporter,
        export_interval_millis=settings.otel_metric_export_interval_seconds
        * 1000,
    )
    return MeterProvider(
        resource=service_resource(settings), metric_readers=[reader]
    )


def configure_metrics(settings: Settings) -> MeterProvider | None:
    """Once per API process: export to the OTLP endpoint if one is set; None
    means metrics are off.

    The provider is not made the global one: the instrumentations' own metrics
    stay off, so each number below is recorded once, with the attributes chosen
    here.
    """
    if settings.otel_exporter_otlp_endpoint is None:
        return None
    endpoint = f"{settings.otel_exporter_otlp_endpoint.rstrip('/')}/v1/metrics"
    return create_meter_provider(
        settings, OTLPMetricExporter(endpoint=endpoint)
    )


# --8<-- [end:meter_provider]


# --8<-- [start:request_metrics]
KNOWN_METHODS = frozenset(
    {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "TRACE",
        "CONNECT",
    }
)
"""Any other method a client sends is recorded as `_OTHER`, as the HTTP
semantic conventions say.
"""

DURATION_BUCKETS_SECONDS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
"""The semantic conventions' buckets for `http.server.request.duration`; the
SDK's default ones are for milliseconds.
"""


class RequestMetricsMiddleware:
    """Pure ASGI middleware: one duration per request, and one error count per
    4xx or 5xx answer.

    Every attribute has a bounded set of values: the route template
    (`/api/v1/messages/{message_id}`), never the path a client typed, which
    holds ids and would make a new series per message.
    """

    def __init__(self, app: ASGIApp, meter_provider: MeterProvider) -> None:
        self.app = app
        meter = meter_provider.get_meter("app.requests")
        self.duration = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description=(
                "Time from the request's arrival to the end of its response."
            ),
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS_SECONDS,
        )
        self.errors = meter.create_counter(
            "http.server.errors",
            unit="{request}",
            description="Requests answered with a 4xx or 5xx status.",
        )

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] != "http":  # the lifespan, and WebSockets
            await self.app(scope, receive, send)
            return
        status = (
            500  # what the server sends if the app fails before it answers
        )
        started = time.perf_counter()

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            attributes = request_attributes(scope, status)
            self.duration.record(time.perf_counter() - started, attributes)
            if status >= 400:
                self.errors.add(
                    1, {**attributes, "error.type": f"{status // 100}xx"}
                )


def request_attributes(scope: Scope, status: int) -> dict[str, str | int]:
    """Method, status and route template; a path no route matched has no
    `http.route` at all.
    """
    method = scope["method"] if scope["method"] in KNOWN_METHODS else "_OTHER"
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "http.response.status_code": status,
    }
    template = route_template(scope)
    if template is not None:
        attributes["http.route"] = template
    return attributes


def route_template(scope: Scope) -> str | None:
    """The matched route's full template, prefixes of the routers it was
    included in and all.

    The router puts the route it matched in the scope, which it shares with the
    middleware; that route's own `path` lacks the prefixes
    (`/messages/{message_id}`), so its full template is looked up among the
    app's routes (`/api/v1/messages/{message_id}`).
    """
    route = scope.get("route")
    if route is None:
        return None
    # FastAPI's public view of the nested routers
    contexts = iter_route_contexts(scope["app"].routes)
    return next(
        context.path_format
        for context in contexts
        if context.original_route is route
    )


def add_request_metrics(
    app: FastAPI, meter_provider: MeterProvider | None
) -> None:
    """Wrap the whole middleware stack, so its time and its answers (401, 413,
    500) are counted too; does nothing while metrics are off. Call it after
    `add_middleware_stack`."""
    if meter_provider is None:
        return
    app.add_middleware(RequestMetricsMiddleware, meter_provider=meter_provider)


# --8<-- [end:request_metrics]


# --8<-- [start:observed_gauges]
def observe_database_pool(
    engine: AsyncEngine, meter_provider: MeterProvider | None
) -> None:
    """A gauge of the engine's connections by state: `used` (checked out) and
    `idle` (in the pool).

    `used` at `database_pool_size + database_max_overflow` means requests are
    queueing for a connection.
    """
    if meter_provider is None:
        return
    pool = engine.sync_engine.pool
    # create_engine's pool; other pools do not count checkouts
    assert isinstance(pool, QueuePool)

    def connections(_: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(
                pool.checkedout(), {"db.client.connection.state": "used"}
            ),
            Observation(
                pool.checkedin(), {"db.client.connection.state": "idle"}
            ),
        ]

    meter_provider.get_meter("app.database").create_observable_gauge(
        "db.client.connection.count",
        callbacks=[connections],
        unit="{connection}",
        description="Connections of the engine's pool, by state.",
    )


def observe_queue_depth(
    settings: Settings, queue: str, meter_provider: MeterProvider | None
) -> None:
    """A gauge of the tasks waiting in the Celery queue: the length of its
    Redis list.

    The reader calls it from its own thread, with no event loop, so it opens a
    short synchronous connection each time (once per export interval) instead
    of borrowing the app's asyncio client.
    """
    if meter_provider is None:
        return

    def waiting_tasks(_: CallbackOptions) -> Iterable[Observation]:
        try:
            with Redis.from_url(
                settings.redis_url.get_secret_value(),
                socket_timeout=settings.redis_timeout_seconds,
                socket_connect_timeout=settings.redis_timeout_seconds,
            ) as client:
                return [
                    Observation(
                        client.llen(queue),
                        {"messaging.destination.name": queue},
                    )
                ]
        except RedisError as error:
            # Left to the SDK, this is an ERROR log line, so a Sentry event per
            # export interval and process.
            logger.warning(
                "queue depth not read: {error}", error=type(error).__name__
            )
            return []

    meter_provider.get_meter("app.celery").create_observable_gauge(
        "messaging.queue.depth",
        callbacks=[waiting_tasks],
        unit="{message}",
        description="Tasks waiting in the broker for a worker.",
    )


# --8<-- [end:observed_gauges]
