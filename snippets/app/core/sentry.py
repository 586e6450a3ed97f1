"""Error reporting to Sentry: on when a DSN is configured, and never with
personal data.
"""

from typing import TYPE_CHECKING

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.loguru import LoguruIntegration
from sentry_sdk.integrations.otlp import OTLPIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration

from app.core.config import Settings

if TYPE_CHECKING:
    from loguru import Record


# --8<-- [start:configure_sentry]
def message_only(record: "Record") -> str:
    """Loguru format for what Sentry takes from a log line: the message, not
    loguru's traceback.

    Loguru's traceback prints the value of every variable in every frame
    (request scope and headers included); Sentry gets the exception as
    structured frames anyway.
    """
    return "{message}"


def configure_sentry(settings: Settings) -> None:
    """Report unhandled errors with environment and release; without a DSN,
    Sentry stays off.
    """
    if settings.sentry_dsn is None:
        return
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=settings.release,
        sample_rate=settings.sentry_sample_rate,
        # 0 still turns tracing on (an incoming sampled `sentry-trace` header
        # would be followed); None turns it off.
        traces_sample_rate=settings.sentry_traces_sample_rate or None,
        # What Sentry may collect (this option replaced `send_default_pii`):
        # nothing personal.
        data_collection={
            "user_info": False,  # no user id, e-mail or IP address
            "cookies": {"mode": "off"},
            "http_headers": {
                "request": {
                    "mode": "allowlist",
                    "terms": ["content-type", "user-agent"],
                }
            },
            "http_bodies": [],  # bodies are user data, whatever their size
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,  # task arguments
            # a frame's locals hold request data too
            "stack_frame_variables": False,
        },
        # only what is listed: traces go to OpenTelemetry, not to Sentry
        auto_enabling_integrations=False,
        integrations=[
            # Name transactions and group errors by route template, not by the
            # concrete URL.
            StarletteIntegration(transaction_style="url"),
            FastApiIntegration(transaction_style="url"),
            LoguruIntegration(
                event_format=message_only, breadcrumb_format=message_only
            ),
            # in the worker: failed tasks, tagged with the task's name
            CeleryIntegration(),
            # An event takes its trace_id and span_id from the current
            # OpenTelemetry span, so it joins the trace and the log lines.
            # Spans and propagation stay OpenTelemetry's (app.core.tracing).
            OTLPIntegration(
                setup_otlp_traces_exporter=False, setup_propagator=False
            ),
            # Stdlib records already reach Sentry through loguru; capturing
            # them here too would double them.
            LoggingIntegration(level=None, event_level=None),
        ],
    )


# --8<-- [end:configure_sentry]
