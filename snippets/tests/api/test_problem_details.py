"""Every error leaves the API as an RFC 9457 problem document, from the central
handlers.
"""

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import fastapi
import fastapi.exceptions
import pydantic
import pytest
import starlette.exceptions
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from loguru import logger

from app.core.config import Settings
from app.core.errors import DomainError
from app.db.database import SessionDep
from app.db.message import model as message_model
from app.db.message.table import MessagesTable
from app.main import create_app
from tests.principals import OWNER

if TYPE_CHECKING:
    from loguru import Message, Record

MESSAGES = "/api/v1/messages"


# --8<-- [start:test_validation_problem]
async def test_invalid_body_is_a_422_naming_every_field(
    client: AsyncClient,
) -> None:
    body = {
        "channel": "fax",
        "recipient": "ada@example.com",
        "body": "",
        "client_ref": "order 42",
    }

    response = await client.post(MESSAGES, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 422,
        "detail": "3 invalid field(s)",
        "instance": "/api/v1/messages",
        "errors": [
            {
                "field": "body.channel",
                "message": "Input should be 'email' or 'sms'",
            },
            {
                "field": "body.body",
                "message": "String should have at least 1 character",
            },
            {
                "field": "body.client_ref",
                "message": "String should match pattern '^[A-Za-z0-9._-]+$'",
            },
        ],
    }


# --8<-- [end:test_validation_problem]


class QuotaExceededError(DomainError):
    """A domain error no handler maps to a status of its own."""

    title = "Quota exceeded"


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    """The real app plus two routes that fail the ways endpoints can fail."""

    async def over_quota() -> None:
        raise QuotaExceededError("10 messages a minute at most")

    async def crash() -> None:
        raise RuntimeError("connection string postgres://app:secret@db/app")

    app.add_api_route("/over-quota", over_quota)
    app.add_api_route("/crash", crash)
    return app


@pytest.fixture
def log_records() -> Iterator[list["Record"]]:
    """What loguru logs during the test, as structured records."""
    records: list[Record] = []

    def keep(message: "Message") -> None:
        records.append(message.record)

    sink_id = logger.add(keep, level="ERROR")
    yield records
    logger.remove(sink_id)


async def test_an_unmapped_domain_error_is_a_400(
    failing_app: FastAPI, client: AsyncClient
) -> None:
    response = await client.get("/over-quota")

    assert response.status_code == 400
    assert response.json() == {
        "type": "about:blank",
        "title": "Quota exceeded",
        "status": 400,
        "detail": "10 messages a minute at most",
        "instance": "/over-quota",
    }


async def test_a_domain_error_without_a_title_of_its_own_answers_with_the_general_one(
    app: FastAPI, client: AsyncClient
) -> None:
    class UntitledError(DomainError):
        """A domain error that names no title."""

    async def untitled() -> None:
        raise UntitledError("something the client can fix")

    app.add_api_route("/untitled", untitled)

    response = await client.get("/untitled")

    assert (response.status_code, response.json()["title"]) == (
        400,
        "Request could not be processed",
    )


# --8<-- [start:test_unexpected_error]
async def test_an_unexpected_error_is_logged_and_hidden(
    failing_app: FastAPI, log_records: list["Record"]
) -> None:
    # answer as a server would
    transport = ASGITransport(app=failing_app, raise_app_exceptions=False)
    async with AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        response = await client.get("/crash")

    assert response.status_code == 500
    assert "secret" not in response.text  # the cause stays in the log
    [record] = log_records
    assert record["message"] == "unhandled error on /crash"
    # a field to filter on, not only text
    assert record["extra"]["path"] == "/crash"
    assert "secret" in str(record["exception"])


# --8<-- [end:test_unexpected_error]


def test_no_domain_error_shadows_a_name_pydantic_or_fastapi_exports(
    settings: Settings,
) -> None:
    """`from pydantic import ValidationError` and an own `ValidationError`
    cannot live in one module.
    """
    exported = {
        name
        for module in (
            pydantic,
            fastapi,
            fastapi.exceptions,
            starlette.exceptions,
        )
        for name in dir(module)
    }
    # Pydantic's, raised by every model that refuses its input
    assert "ValidationError" in exported
    # imports every router, service and model, so every error class is defined
    create_app()
    errors, unvisited = set(), [DomainError]
    while unvisited:
        subclasses = unvisited.pop().__subclasses__()
        errors |= {
            error.__name__
            for error in subclasses
            if error.__module__.startswith("app.")
        }
        unvisited += subclasses

    # the walk found the service's errors
    assert {
        "NotFoundError",
        "ConflictError",
    } <= errors
    assert errors & exported == set()


async def test_a_failed_check_is_a_500_whose_log_quotes_the_row(
    app: FastAPI, anonymous_client: AsyncClient, log_records: list["Record"]
) -> None:
    async def break_a_check(session: SessionDep) -> None:
        # the model would refuse an empty body; a script's row would not
        async with session.begin():
            await MessagesTable(session, OWNER).insert_model(
                message_model.Message(
                    channel=message_model.Channel.SMS,
                    recipient="+1",
                    body="",
                    client_ref="check",
                )
            )

    app.add_api_route("/break-a-check", break_a_check)

    response = await anonymous_client.get("/break-a-check")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    [record] = log_records
    assert "messages_body_check" in str(record["exception"])
    # PostgreSQL quotes the row: personal data
    assert "Failing row contains" in str(record["exception"])


async def test_a_missing_resource_is_a_404_problem_with_its_own_title(
    client: AsyncClient,
) -> None:
    response = await client.get(f"{MESSAGES}/{uuid.uuid4()}")

    assert (response.status_code, response.json()["title"]) == (
        404,
        "Resource not found",
    )
