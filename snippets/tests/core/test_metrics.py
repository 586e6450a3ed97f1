"""Metrics: request duration and errors by route template, the pool and the
queue, received by a real OTLP collector.
"""

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter,
)
from opentelemetry.sdk.metrics import MeterProvider
from pydantic import SecretStr
from redis.asyncio import Redis

from app.celery_app import DELIVER_WEBHOOK_TASK, celery_app
from app.core.config import Settings
from app.core.metrics import (
    DURATION_BUCKETS_SECONDS,
    KNOWN_METHODS,
    configure_metrics,
    create_meter_provider,
    observe_database_pool,
    observe_queue_depth,
)
from app.db.database import create_engine
from app.main import create_app
from tests.core.otlp_collector import OtlpCollector, attributes


@pytest.fixture
def meter_provider(
    settings: Settings, collector: OtlpCollector
) -> Iterator[MeterProvider]:
    """The production provider and exporter, sending to the test's
    collector.
    """
    provider = create_meter_provider(
        settings, OTLPMetricExporter(endpoint=f"{collector.url}/v1/metrics")
    )
    yield provider
    provider.shutdown()


# --8<-- [start:test_route_template]
async def test_request_metrics_are_labelled_by_route_template_never_by_path(
    otlp_settings: Settings,
    collector: OtlpCollector,
    make_token: Callable[..., str],
) -> None:
    # production wiring: metrics on because the endpoint is set
    app = create_app()

    @app.post("/orders/{order_id}/pay")
    async def pay(order_id: int) -> None:
        raise RuntimeError(f"payment provider rejected order {order_id}")

    ids = [str(uuid.uuid4()) for _ in range(3)]
    headers = {"Authorization": f"Bearer {make_token()}"}
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(
                app=manager.app, raise_app_exceptions=False
            ),
            base_url="http://test",
        ) as client,
    ):
        statuses = [
            (
                await client.get(f"/api/v1/messages/{id_}", headers=headers)
            ).status_code
            for id_ in ids
        ]
        # no route matches
        statuses.append(
            (await client.get(f"/no/such/path/{ids[0]}")).status_code
        )
        # any method
        statuses.append(
            (
                await client.request("BREW", f"/api/v1/messages/{ids[0]}")
            ).status_code
        )
        statuses.append((await client.post("/orders/7/pay")).status_code)
    # The lifespan ended: the provider was shut down, which collected and
    # exported one last time.

    assert statuses == [404, 404, 404, 404, 405, 500]
    assert collector.content_types == {"application/x-protobuf"}
    metrics = collector.last_metrics()
    [histogram] = [metrics["http.server.request.duration"].histogram]
    points = {
        tuple(sorted(attributes(point.attributes).items())): point
        for point in histogram.data_points
    }
    labels = [dict(key) for key in points]
    # Bounded: every label is a route template of the app, a known method or
    # `_OTHER`, never an id.
    recorded = repr(labels)
    assert not any(id_ in recorded for id_ in ids)
    # the routes as the API's schema lists them
    templates = set(app.openapi()["paths"])
    assert {
        label["http.route"] for label in labels if "http.route" in label
    } <= templates
    assert {
        label["http.request.method"] for label in labels
    } <= KNOWN_METHODS | {"_OTHER"}
    # Three requests to three messages are one series, with a count of three.
    route = {
        "http.route": "/api/v1/messages/{message_id}",
        "http.request.method": "GET",
    }
    [message_reads] = [
        point
        for label, point in zip(labels, points.values(), strict=True)
        if route.items() <= label.items()
    ]
    assert message_reads.count == 3
    assert tuple(message_reads.explicit_bounds) == DURATION_BUCKETS_SECONDS
    errors = {
        (
            label.get("http.route"),
            label["http.request.method"],
            label["error.type"],
        ): point.as_int
        for point in metrics["http.server.errors"].sum.data_points
        for label in [attributes(point.attributes)]
    }
    assert errors == {
        ("/api/v1/messages/{message_id}", "GET", "4xx"): 3,
        # the unmatched path: no route label rather than the path
        (
            None,
            "GET",
            "4xx",
        ): 1,
        ("/api/v1/messages/{message_id}", "_OTHER", "4xx"): 1,
        ("/orders/{order_id}/pay", "POST", "5xx"): 1,
    }
    # the lifespan's gauges
    assert {
        "db.client.connection.count",
        "messaging.queue.depth",
    } <= metrics.keys()
    resource = attributes(
        collector.metrics[-1].resource_metrics[0].resource.attributes
    )
    assert (
        resource["service.name"],
        resource["deployment.environment.name"],
    ) == ("reference-service", "test")


# --8<-- [end:test_route_template]


def gauge(
    collector: OtlpCollector, name: str
) -> dict[tuple[tuple[str, object], ...], int]:
    """The last values of a gauge, by their attributes."""
    return {
        tuple(attributes(point.attributes).items()): point.as_int
        for point in collector.last_metrics()[name].gauge.data_points
    }


# --8<-- [start:test_pool_gauge]
async def test_the_pool_gauge_counts_checked_out_connections(
    settings: Settings, meter_provider: MeterProvider, collector: OtlpCollector
) -> None:
    # its own pool, so the counts are this test's alone
    engine = create_engine(settings)
    observe_database_pool(engine, meter_provider)
    try:
        async with engine.connect():
            second = await engine.connect()
            meter_provider.force_flush()
            both_out = gauge(collector, "db.client.connection.count")
            await second.close()  # back to the pool
            meter_provider.force_flush()
            one_back = gauge(collector, "db.client.connection.count")
    finally:
        await engine.dispose()

    state = "db.client.connection.state"
    assert both_out == {((state, "used"),): 2, ((state, "idle"),): 0}
    assert one_back == {((state, "used"),): 1, ((state, "idle"),): 1}


# --8<-- [end:test_pool_gauge]


# --8<-- [start:test_queue_gauge]
async def test_the_queue_gauge_is_the_length_of_the_celery_list_in_redis(
    settings: Settings,
    redis: Redis,
    meter_provider: MeterProvider,
    collector: OtlpCollector,
) -> None:
    queue = celery_app.conf.task_default_queue
    observe_queue_depth(settings, queue, meter_provider)
    for _ in range(3):  # no worker runs here: the messages wait in the queue
        celery_app.send_task(DELIVER_WEBHOOK_TASK, args=[str(uuid.uuid4())])

    meter_provider.force_flush()

    assert await redis.llen(queue) == 3
    assert gauge(collector, "messaging.queue.depth") == {
        (("messaging.destination.name", "celery"),): 3
    }


# --8<-- [end:test_queue_gauge]


async def test_a_redis_outage_leaves_a_gap_in_the_queue_gauge_and_logs_a_warning_not_an_error(
    settings: Settings,
    meter_provider: MeterProvider,
    collector: OtlpCollector,
    caplog: pytest.LogCaptureFixture,
    logged_warnings: list[dict[str, Any]],
) -> None:
    # nothing listens
    down = settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1/0")}
    )
    engine = create_engine(settings)
    observe_database_pool(engine, meter_provider)
    observe_queue_depth(down, "celery", meter_provider)
    try:
        meter_provider.force_flush()
    finally:
        await engine.dispose()

    exported = collector.last_metrics()
    # the other metrics are still exported
    assert "db.client.connection.count" in exported
    assert "messaging.queue.depth" not in exported
    # An ERROR would reach Sentry as an event, once per export interval and per
    # process.
    assert [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ] == []
    assert [record["level"].name for record in logged_warnings] == ["WARNING"]


def test_without_an_endpoint_metrics_stay_off(settings: Settings) -> None:
    assert settings.otel_exporter_otlp_endpoint is None
    assert configure_metrics(settings) is None
    assert create_app().state.meter_provider is None
