"""Logging: one JSON object per line, stdlib loggers included, request id on
every line, secrets masked.
"""

import io
import json
import logging
import logging.config
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from celery.signals import setup_logging
from loguru import logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG

import app.celery_app  # noqa: F401 (connects the worker's signal receivers)
from app.core.config import Settings
from app.core.logging import configure_logging


@pytest.fixture
def stream(settings: Settings) -> Iterator[io.StringIO]:
    """A buffer to log into; afterwards the process logs to stderr again, as
    the app configures it.
    """
    buffer = io.StringIO()
    yield buffer
    configure_logging(settings, sys.stderr)


def read_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line must parse as JSON on its own, as a log shipper reads it."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --8<-- [start:test_request_id]
def test_every_line_is_json_with_the_request_id(
    settings: Settings, stream: io.StringIO
) -> None:
    configure_logging(settings, stream)
    message_id = uuid.uuid4()

    # what the request-id middleware does per request
    with logger.contextualize(request_id="7f3c9a"):
        logger.info("message created", message_id=message_id)
        logging.getLogger("uvicorn.error").warning(
            "client sent an invalid request"
        )

    created, warning = read_lines(stream)
    assert (created["level"], created["message"]) == (
        "INFO",
        "message created",
    )
    assert created["extra"] == {
        "request_id": "7f3c9a",
        "message_id": str(message_id),
    }
    assert created["time"].endswith("+00:00")
    assert (warning["level"], warning["extra"]) == (
        "WARNING",
        {"request_id": "7f3c9a"},
    )
    # The stdlib line names its logger and the code that logged, not the
    # intercept handler.
    assert warning["logger"] == "uvicorn.error"
    assert warning["function"] == "test_every_line_is_json_with_the_request_id"


# --8<-- [end:test_request_id]


def test_angle_brackets_are_logged_as_they_are(
    settings: Settings, stream: io.StringIO
) -> None:
    configure_logging(settings, stream)

    # Module-level code logs as function `<module>`, which loguru would read as
    # a colour tag.
    exec(  # noqa: S102
        compile(
            'logger.info("<b>not markup</b>")', "<module-level code>", "exec"
        ),
        {"logger": logger},
    )

    (line,) = read_lines(stream)
    assert (line["function"], line["message"]) == (
        "<module>",
        "<b>not markup</b>",
    )


# --8<-- [start:test_redaction]
def test_secrets_are_masked_at_any_depth(
    settings: Settings, stream: io.StringIO
) -> None:
    configure_logging(settings, stream)

    headers = {
        "Authorization": "Bearer eyJhbGciOi",
        "X-Api-Key": "k-93f1",
        "Accept": "application/json",
    }
    logger.bind(headers=headers).info(
        "calling the partner API", refresh_token="r-7Hq2", attempt=2
    )

    [line] = read_lines(stream)
    assert line["extra"] == {
        "headers": {
            "Authorization": "[redacted]",
            "X-Api-Key": "[redacted]",
            "Accept": "application/json",
        },
        "refresh_token": "[redacted]",
        "attempt": 2,
    }
    assert "eyJhbGciOi" not in stream.getvalue()


# --8<-- [end:test_redaction]


def test_secrets_inside_lists_are_masked_and_any_key_can_be_logged(
    settings: Settings, stream: io.StringIO
) -> None:
    configure_logging(settings, stream)

    # an int key raised
    logger.info(
        "sent", items=[{"token": "t-1"}, ({"password": "p-2"},)], counts={1: 5}
    )

    [line] = read_lines(stream)
    assert line["extra"] == {
        "items": [{"token": "[redacted]"}, [{"password": "[redacted]"}]],
        "counts": {"1": 5},
    }
    assert "t-1" not in stream.getvalue()


def test_uvicorn_lines_leave_uvicorn_handlers_for_ours(
    settings: Settings, stream: io.StringIO
) -> None:
    # what uvicorn does before it calls the app factory
    logging.config.dictConfig(LOGGING_CONFIG)
    configure_logging(settings, stream)

    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", "/livez", "1.1", 200
    )
    # left as it is
    logging.getLogger("uvicorn.access").info("a line without arguments")
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" %d', "10.0.0.7:5123", "/livez", 403
    )
    # not a WebSocket line
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)

    line, plain, websocket, started = read_lines(stream)
    # no client address
    assert line["message"] == '- - "GET /livez HTTP/1.1" 200'
    assert plain["message"] == "a line without arguments"
    assert websocket["message"] == '- - "WebSocket /livez" 403'
    assert started["message"] == "Started server process [42]"
    assert logging.getLogger("uvicorn.access").handlers == []


def test_levels_below_the_setting_are_dropped(
    settings: Settings, stream: io.StringIO
) -> None:
    configure_logging(
        settings.model_copy(update={"log_level": "WARNING"}), stream
    )

    logger.info("routine")
    logging.getLogger("celery.worker").info("routine too")
    logging.getLogger("legacy").log(35, "a level only the stdlib knows")

    [line] = read_lines(stream)
    assert (line["level"], line["message"]) == (
        "Level 35",
        "a level only the stdlib knows",
    )


def test_exceptions_carry_their_traceback(
    settings: Settings, stream: io.StringIO
) -> None:
    configure_logging(settings, stream)

    try:
        raise LookupError("no such partner")
    except LookupError:
        logger.exception("delivery failed")

    [line] = read_lines(stream)
    assert line["message"] == "delivery failed"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("LookupError: no such partner\n")


async def test_sql_parameters_never_reach_the_log(
    settings: Settings, stream: io.StringIO, engine: AsyncEngine
) -> None:
    configure_logging(
        settings.model_copy(update={"log_level": "DEBUG"}), stream
    )

    async with engine.connect() as connection:
        await connection.execute(
            text("SELECT :card_number"), {"card_number": "4111 1111 1111 1111"}
        )

    # even at DEBUG, SQLAlchemy's own WARNING level holds
    assert "4111" not in stream.getvalue()
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(
        logging.INFO
    )


async def test_outgoing_request_urls_never_reach_the_log(
    settings: Settings, stream: io.StringIO
) -> None:
    async def receiver(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 204, "headers": []}
        )
        await send({"type": "http.response.body", "body": b""})

    configure_logging(
        settings.model_copy(update={"log_level": "DEBUG"}), stream
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receiver)
    ) as client:
        response = await client.post(
            "https://hooks.example.com/in?token=subscriber-token"
        )

    assert response.status_code == 204
    assert "subscriber-token" not in stream.getvalue()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


# --8<-- [start:test_worker_logging]
def test_the_worker_logs_json_lines_too(
    stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # What `celery worker` and `celery beat` send when they set up logging
    # (app.celery_app answers).
    setup_logging.send(
        sender=None,
        loglevel=logging.DEBUG,
        logfile=None,
        format="%(message)s",
        colorize=True,
    )

    logging.getLogger("celery.worker.strategy").info(
        "Task webhook.deliver received"
    )

    [line] = [
        json.loads(text) for text in capsys.readouterr().err.splitlines()
    ]
    # not Celery's text format
    assert (line["level"], line["logger"]) == (
        "INFO",
        "celery.worker.strategy",
    )
    assert line["message"] == "Task webhook.deliver received"


# --8<-- [end:test_worker_logging]


def test_an_f_string_makes_a_message_per_value_and_escapes_redaction(
    settings: Settings, stream: io.StringIO
) -> None:
    """Fields keep one message to group on and a key to filter and mask by; an
    f-string keeps neither.
    """
    configure_logging(settings, stream)

    for token in ("t-1f9a", "t-77c2"):
        logger.info("partner token refreshed", token=token)
        logger.info(f"partner token refreshed: {token}")

    structured = [line for line in read_lines(stream) if line["extra"]]
    interpolated = [line for line in read_lines(stream) if not line["extra"]]
    # one message, two lines
    assert {line["message"] for line in structured} == {
        "partner token refreshed"
    }
    assert [line["extra"] for line in structured] == [
        {"token": "[redacted]"}
    ] * 2
    # a new message for every value ...
    assert len({line["message"] for line in interpolated}) == 2
    # ... and the secret is in it, where no key names it
    assert "t-1f9a" in interpolated[0]["message"]
