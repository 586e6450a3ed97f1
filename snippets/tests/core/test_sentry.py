"""Sentry: an unhandled error becomes one event, tagged with environment and
release, without personal data.
"""

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from asgi_lifespan import LifespanManager
from celery.signals import beat_init, celeryd_init
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from loguru import logger
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.loguru import LoguruIntegration
from sentry_sdk.tracing_utils import has_tracing_enabled
from sentry_sdk.transport import Transport

from app.celery_app import celery_app
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.core.sentry import configure_sentry
from app.main import create_app


# --8<-- [start:capturing_transport]
class CapturingTransport(Transport):
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


# --8<-- [end:capturing_transport]


@pytest.fixture
def sentry_events(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[dict[str, Any]]]:
    """Sentry configured from the environment as in production; the events it
    would send.
    """
    monkeypatch.setenv(
        "SENTRY_DSN", "https://public-key@sentry.example.com/42"
    )
    monkeypatch.setenv("RELEASE", "2026.11.26-3f9c2e1")
    get_settings.cache_clear()
    yield []
    get_settings.cache_clear()
    sentry_sdk.get_client().close()
    # back to the no-op client for the other tests
    sentry_sdk.get_global_scope().set_client(None)


def capture_into(events: list[dict[str, Any]]) -> None:
    """Make the active Sentry client keep its events in `events` instead of
    sending them.
    """
    client = sentry_sdk.get_client()
    transport = CapturingTransport(client.options)
    transport.events = events
    client.transport = transport


def failing_app(sentry_events: list[dict[str, Any]]) -> FastAPI:
    """The real app (create_app initialises Sentry) with a route that fails,
    events captured in memory.
    """
    app = create_app()
    capture_into(sentry_events)

    @app.post("/orders/{order_id}/pay")
    async def pay(order_id: int) -> None:
        raise RuntimeError(f"payment provider rejected order {order_id}")

    return app


# --8<-- [start:test_sentry_event]
async def test_an_unhandled_error_is_one_event_without_personal_data(
    sentry_events: list[dict[str, Any]],
) -> None:
    app = failing_app(sentry_events)
    transport = ASGITransport(
        app=app, raise_app_exceptions=False, client=("203.0.113.9", 50123)
    )
    async with (
        LifespanManager(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        response = await client.post(
            "/orders/7/pay?email=ada@example.com",
            json={"card_number": "4111111111111111"},
            headers={
                "Authorization": "Bearer eyJhbGciOi",
                "Cookie": "session=s3cr3t",
            },
        )

    assert response.status_code == 500
    [event] = sentry_events
    assert (event["environment"], event["release"]) == (
        "test",
        "2026.11.26-3f9c2e1",
    )
    # grouped by route, not by URL
    assert event["transaction"] == "/orders/{order_id}/pay"
    # no variable dump
    assert event["logentry"]["message"] == "unhandled error on /orders/7/pay"
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert all(
        "vars" not in frame for frame in exception["stacktrace"]["frames"]
    )
    sent = json.dumps(event)
    for personal in (
        "eyJhbGciOi",
        "s3cr3t",
        "4111111111111111",
        "203.0.113.9",
        "ada@example.com",
    ):
        assert personal not in sent
    assert "cookies" not in event["request"]
    assert "ip_address" not in event.get("user", {})


# --8<-- [end:test_sentry_event]


def test_stdlib_lines_keep_their_origin_with_sentry_on(
    sentry_events: list[dict[str, Any]],
) -> None:
    stream = io.StringIO()
    configure_logging(get_settings(), stream)
    # patches the logging module's Logger.callHandlers
    configure_sentry(get_settings())

    logging.getLogger("partner.client").warning("partner answered slowly")

    line = json.loads(stream.getvalue())
    assert (line["logger"], line["function"]) == (
        "partner.client",
        "test_stdlib_lines_keep_their_origin_with_sentry_on",
    )


# --8<-- [start:test_logging_after_sentry]
def test_an_error_line_reaches_sentry_when_logging_is_configured_after_it(
    sentry_events: list[dict[str, Any]],
) -> None:
    # a Celery worker's order: `celeryd_init`, then `setup_logging`
    configure_sentry(get_settings())
    capture_into(sentry_events)
    configure_logging(get_settings(), io.StringIO())

    logger.error("webhook sweep failed")
    # back to what the app configures
    configure_logging(get_settings(), sys.stderr)

    assert [event["logentry"]["message"] for event in sentry_events] == [
        "webhook sweep failed"
    ]


# --8<-- [end:test_logging_after_sentry]


def test_a_bare_remove_drops_sentrys_sinks(
    sentry_events: list[dict[str, Any]],
) -> None:
    configure_sentry(get_settings())
    capture_into(sentry_events)
    logger.error("before the remove")
    # what configure_logging did before: every sink goes, Sentry's too
    logger.remove()
    try:
        logger.error("after the remove")
    finally:
        # Sentry adds its sinks once per process: back for the other tests
        LoguruIntegration.setup_once()
        configure_logging(get_settings(), sys.stderr)

    assert [event["logentry"]["message"] for event in sentry_events] == [
        "before the remove"
    ]


def test_without_a_dsn_sentry_stays_off(settings: Settings) -> None:
    configure_sentry(settings)

    assert settings.sentry_dsn is None
    assert not sentry_sdk.get_client().is_active()


def test_the_worker_and_beat_report_to_sentry(
    sentry_events: list[dict[str, Any]],
) -> None:
    # sent by `celery worker` and `celery beat` as they start
    for started in (
        celeryd_init,
        beat_init,
    ):
        sentry_sdk.get_global_scope().set_client(None)

        started.send(
            sender="celery@worker-1",
            instance=None,
            conf=celery_app.conf,
            options={},
        )

        client = sentry_sdk.get_client()
        assert client.is_active()
        # failed tasks become events
        assert client.get_integration(CeleryIntegration) is not None
        assert (client.options["environment"], client.options["release"]) == (
            "test",
            "2026.11.26-3f9c2e1",
        )


async def test_an_error_answered_with_a_4xx_sends_no_event(
    sentry_events: list[dict[str, Any]],
) -> None:
    app = create_app()
    capture_into(sentry_events)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        LifespanManager(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        statuses = [
            (await client.get("/api/v1/messages")).status_code,  # no token
            (await client.get("/no-such-route")).status_code,
            (await client.delete("/livez")).status_code,
        ]

    assert statuses == [401, 404, 405]
    # the client's mistakes are answers, not our failures
    assert sentry_events == []


def test_sentry_traces_nothing_by_default_because_traces_go_to_otlp(
    sentry_events: list[dict[str, Any]],
) -> None:
    create_app()  # initialises Sentry from the environment, as in production

    assert sentry_sdk.get_client().is_active()
    # Off, not a rate of 0: with 0, a caller's sampled `sentry-trace` header
    # would still start a transaction.
    assert not has_tracing_enabled(sentry_sdk.get_client().options)
