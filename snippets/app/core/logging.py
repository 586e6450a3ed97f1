"""Structured logs: loguru writes one JSON object per line; stdlib loggers are
routed into it.
"""

import json
import logging
import sys
import traceback
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger
from opentelemetry import trace

from app.core.config import Settings

if TYPE_CHECKING:
    from loguru import Record


# --8<-- [start:redact_secrets]
SECRET_KEY_PARTS = (
    "authorization",
    "cookie",
    "password",
    "secret",
    "token",
    "api_key",
    "api-key",
)
"""A key containing any of these (in any case) has its value masked:
`refresh_token`, `X-Api-Key`.
"""

REDACTED = "[redacted]"


def redacted(fields: Mapping[Any, object]) -> dict[str, object]:
    """A copy of `fields` with every secret value masked, in nested mappings
    and lists too.

    Keys become strings: a log call with `{1: 5}` must not raise, and JSON keys
    are strings anyway.
    """
    masked: dict[str, object] = {}
    for key, value in fields.items():
        name = str(key)
        masked[name] = (
            REDACTED
            if any(part in name.lower() for part in SECRET_KEY_PARTS)
            else redacted_value(value)
        )
    return masked


def redacted_value(value: object) -> object:
    """`value` with the secrets inside it masked: mappings, lists and tuples
    are walked.
    """
    if isinstance(value, Mapping):
        return redacted(value)
    if isinstance(value, list | tuple):
        return [redacted_value(item) for item in value]
    return value


def redact_secrets(record: "Record") -> None:
    """Loguru patcher: runs before any sink, so neither stderr nor Sentry's
    breadcrumbs see a secret.
    """
    record["extra"] = redacted(record["extra"])


# --8<-- [end:redact_secrets]


# --8<-- [start:trace_ids]
def current_trace_ids() -> dict[str, str]:
    """The current span's `trace_id` and `span_id` in hex, as OpenTelemetry and
    Sentry show them.

    Empty outside a span: at start-up, in a probe, or everywhere while tracing
    is off.
    """
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(context.trace_id),
        "span_id": trace.format_span_id(context.span_id),
    }


# --8<-- [end:trace_ids]


# --8<-- [start:json_format]
def json_format(record: "Record") -> str:
    """Render one record as one line of JSON: fields a log pipeline can index
    without parsing text.
    """
    document: dict[str, object] = {
        "time": record["time"].astimezone(UTC).isoformat(),
        "level": record["level"].name,
        "message": record["message"],
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
        # The span this line was written in, read now: sinks run in the
        # caller's thread and context.
        **current_trace_ids(),
        # bound fields and the request id, e.g. {"request_id": "..."}
        "extra": record["extra"],
    }
    if record["exception"] is not None:
        kind, error, trace = record["exception"]
        document["exception"] = "".join(
            traceback.format_exception(kind, error, trace)
        )
    # str() anything JSON cannot hold: UUIDs, datetimes
    line = json.dumps(document, default=str)
    # Loguru reads the result as a template: escape its braces and its markup
    # tags (`<module>`).
    return (
        line.replace("{", "{{").replace("}", "}}").replace("<", "\\<") + "\n"
    )


# --8<-- [end:json_format]


# --8<-- [start:intercept_handler]
class InterceptHandler(logging.Handler):
    """Hand every stdlib record (uvicorn, SQLAlchemy, Celery) to loguru,
    keeping its level and origin.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:  # a level loguru does not know keeps its number
            level = record.levelno

        def stdlib_origin(loguru_record: "Record") -> None:
            # The stdlib already found the caller (honouring `stacklevel`):
            # copy it rather than walk the stack, a walk that ends in the wrong
            # frame once Sentry patches the logging module.
            loguru_record["name"] = record.name
            loguru_record["function"] = record.funcName
            loguru_record["line"] = record.lineno

        logger.patch(stdlib_origin).opt(exception=record.exc_info).log(
            level, record.getMessage()
        )


# --8<-- [end:intercept_handler]


# --8<-- [start:drop_client_address]
def without_client_address(record: logging.LogRecord) -> bool:
    """Filter of `uvicorn.access`: log the request line, not who sent it; an IP
    address is personal data.

    uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with the client's address first;
    it becomes `-`.
    """
    if isinstance(record.args, tuple) and record.args:
        record.args = ("-", *record.args[1:])
    return True


def without_websocket_client_address(record: logging.LogRecord) -> bool:
    """Filter of `uvicorn.error`: its WebSocket lines (`'%s - "WebSocket %s"
    403'`) name the client first too.
    """
    if str(record.msg).startswith('%s - "WebSocket'):
        return without_client_address(record)
    return True


# --8<-- [end:drop_client_address]


# --8<-- [start:configure_logging]
LOGURU_DEFAULT_HANDLER_ID = 0
"""The text handler on stderr that loguru adds when it is imported (unless
`LOGURU_AUTOINIT=0`).
"""

# what the last call added: the next call replaces only that
_json_handler_ids: list[int] = []


def configure_logging(settings: Settings, stream: TextIO = sys.stderr) -> None:
    """Set up logging for the process, once at start; Sentry's sinks stay, in
    either order (not thread-safe).
    """
    for handler_id in (LOGURU_DEFAULT_HANDLER_ID, *_json_handler_ids):
        with suppress(ValueError):  # already removed
            logger.remove(handler_id)
    # runs before every sink, Sentry's included
    logger.configure(patcher=redact_secrets)
    _json_handler_ids[:] = [
        logger.add(stream, level=settings.log_level, format=json_format)
    ]

    # Every stdlib logger ends in the root logger, and the root logger in
    # loguru.
    logging.basicConfig(
        handlers=[InterceptHandler()], level=settings.log_level, force=True
    )
    for existing in logging.root.manager.loggerDict.values():
        # uvicorn configured its own handlers before us
        if isinstance(existing, logging.Logger):
            existing.handlers.clear()
            existing.propagate = True
    # SQLAlchemy keeps its own level, WARNING: at INFO it writes every
    # statement with its parameters, which are user data. httpx writes every
    # request's full URL at INFO, and a webhook subscriber's URL may carry a
    # token in its query: only its warnings are logged.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # added once, however often called
    logging.getLogger("uvicorn.access").addFilter(without_client_address)
    logging.getLogger("uvicorn.error").addFilter(
        without_websocket_client_address
    )


# --8<-- [end:configure_logging]
