"""The OpenAPI document is a contract: stable operation ids, and every error a
route sends documented as a problem.
"""

import re
import typing
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient, Response
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from app.api.auth import RequireScope, get_current_principal
from app.api.messaging.models import MessageCreate, MessageUpdate
from app.api.preconditions import if_match_versions
from app.api.problem_details import PROBLEM_JSON
from app.api.rate_limit import RateLimit
from app.api.webhook.models import WebhookCreate, WebhookUpdate
from app.base.base_table import BaseTable
from app.core.config import Settings
from app.db.database import get_session
from app.db.redis import get_redis
from app.main import create_app
from tests.subclasses import subclasses

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def operations(
    openapi: dict[str, Any],
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the document."""
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


# --8<-- [start:test_operation_ids]
# Each id is a method name in every client generated from the document:
# renaming one breaks them.
OPERATION_IDS = {
    "GET /livez": "health-livez",
    "GET /readyz": "health-readyz",
    "POST /api/v1/messages": "messaging-create_message",
    "GET /api/v1/messages": "messaging-list_messages",
    "POST /api/v1/messages/batch": "messaging-create_messages",
    "GET /api/v1/messages/{message_id}": "messaging-get_message",
    "PATCH /api/v1/messages/{message_id}": "messaging-update_message",
    "DELETE /api/v1/messages/{message_id}": "messaging-delete_message",
    "POST /api/v1/webhooks": "webhook-create_webhook",
    "GET /api/v1/webhooks": "webhook-list_webhooks",
    "GET /api/v1/webhooks/{webhook_id}": "webhook-get_webhook",
    "PATCH /api/v1/webhooks/{webhook_id}": "webhook-update_webhook",
    "DELETE /api/v1/webhooks/{webhook_id}": "webhook-delete_webhook",
}


def test_operation_ids_are_unique_stable_and_free_of_path_noise(
    settings: Settings,
) -> None:
    ids = {
        f"{method} {path}": operation["operationId"]
        for method, path, operation in operations(create_app().openapi())
    }

    # unique: a generator would merge or rename duplicates
    assert len(set(ids.values())) == len(ids)
    # `{tag}-{function}`
    assert [
        i for i in ids.values() if not re.fullmatch(r"[a-z]+-[a-z_]+", i)
    ] == []
    # no path, no method
    assert [
        i
        for i in ids.values()
        if re.search(r"api_v1|__|_(get|post|patch|delete)$", i)
    ] == []
    assert (
        ids == OPERATION_IDS
        # a new route adds a line; a changed line is a breaking change for
        # clients
    )


# --8<-- [end:test_operation_ids]


# --8<-- [start:test_problems_under_problem_json]
def test_every_error_response_is_a_problem_under_application_problem_json(
    settings: Settings,
) -> None:
    openapi = create_app().openapi()
    errors = {
        f"{method} {path} {status}": response
        for method, path, operation in operations(openapi)
        for status, response in operation["responses"].items()
        if int(status) >= 400
    }

    assert len(errors) >= 30  # every route's errors were found
    misfiled = {
        name: list(r.get("content", {}))
        for name, r in errors.items()
        if r.get("content") != {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
    }
    # one media type, the one the handlers send, with the Problem schema
    assert misfiled == {}
    # FastAPI's own 422 shape, never sent
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


# --8<-- [end:test_problems_under_problem_json]


# --8<-- [start:derived_statuses]
def dependency_calls(dependant: Dependant) -> list[object]:
    """Every dependency a route runs, its sub-dependencies included."""
    return [
        call
        for sub in dependant.dependencies
        for call in (sub.call, *dependency_calls(sub))
    ]


def parameters(dependant: Dependant) -> list[object]:
    """Every path, query, header, cookie and body parameter of a route and its
    dependencies.
    """
    own = [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
    ]
    return [
        *own,
        *dependant.body_params,
        *(p for sub in dependant.dependencies for p in parameters(sub)),
    ]


def body_fields(annotation: object) -> set[str]:
    """The field names of every model in a body annotation (`MessageCreate`,
    `list[MessageCreate]`).
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return set(annotation.model_fields)
    return {
        name
        for argument in typing.get_args(annotation)
        for name in body_fields(argument)
    }


def unique_columns() -> set[str]:
    """Columns of a unique index: a write that sets one can be a 409
    (`BaseTable.unique_fields`).
    """
    return {
        field
        for table in subclasses(BaseTable)
        for fields in table.unique_fields.values()
        for field in fields
    }


def spends_a_rate_limit(endpoint: Callable[..., object]) -> bool:
    """The endpoint calls `RateLimit.spend` itself (a batch costs its size), so
    no dependency shows it.
    """
    return any(
        isinstance(endpoint.__globals__.get(name), RateLimit)
        for name in endpoint.__code__.co_names
    )


# What no dependency shows: the probe answers 503 itself when PostgreSQL or
# Redis does not.
ANSWERED_BY_THE_ENDPOINT = {"health-readyz": {503}}


def statuses_the_route_can_send(
    route: Any,  # noqa: ANN401 (FastAPI's RouteContext proxies APIRoute)
) -> set[int]:
    calls = dependency_calls(route.dependant)
    derived = set(ANSWERED_BY_THE_ENDPOINT.get(route.unique_id, set()))
    if get_current_principal in calls:
        derived.add(401)
    if any(isinstance(call, RequireScope) for call in calls):
        derived.add(403)
    if any(
        isinstance(call, RateLimit) for call in calls
    ) or spends_a_rate_limit(route.endpoint):
        # 503: the limit cannot be checked while Redis is down
        derived |= {
            429,
            503,
        }
    if route.dependant.path_params:
        derived.add(404)  # every path parameter here is the id of a row
    if parameters(route.dependant):
        derived.add(422)
    if route.dependant.body_params:
        derived.add(
            400
            # FastAPI's answer to a body that is not UTF-8: it cannot even try
            # to parse it
        )
        derived.add(
            413
            # the body size limit (a middleware) refuses a body over it before
            # the route runs
        )
    if get_session in calls:
        # a statement or lock timeout (`app/api/database_errors.py`)
        derived.add(503)
    if if_match_versions in calls:
        derived |= {412, 428}  # a stale `If-Match`, or none
    body = {
        name
        for param in route.dependant.body_params
        for name in body_fields(param.field_info.annotation)
    }
    if body & unique_columns():
        derived.add(409)
    return derived


def test_every_route_documents_every_error_it_can_send(
    settings: Settings,
) -> None:
    app = create_app()
    openapi = app.openapi()
    missing = {
        f"{method} {context.path}": (
            statuses_the_route_can_send(context)
            - {
                int(status)
                for status in openapi["paths"][context.path][method.lower()][
                    "responses"
                ]
            }
        )
        for context in iter_route_contexts(app.routes)
        # not /docs and /openapi.json themselves
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }

    assert {
        route: sorted(statuses)
        for route, statuses in missing.items()
        if statuses
    } == {}


# --8<-- [end:derived_statuses]


ERRORS_BY_OPERATION = {
    "health-livez": set(),
    "health-readyz": {503},
    "messaging-create_message": {400, 401, 403, 409, 413, 422, 429, 503},
    # its limit is spent in the endpoint
    "messaging-create_messages": {
        400,
        401,
        403,
        409,
        413,
        422,
        429,
        503,
    },
    "messaging-list_messages": {401, 422},
    "messaging-get_message": {401, 404, 422},
    # client_ref, the unique column, cannot change
    "messaging-update_message": {
        400,
        401,
        403,
        404,
        412,
        413,
        422,
        428,
    },
    "messaging-delete_message": {401, 403, 404, 422},
    "webhook-create_webhook": {400, 401, 403, 409, 413, 422},
    "webhook-list_webhooks": {401, 422},
    "webhook-get_webhook": {401, 404, 422},
    "webhook-update_webhook": {400, 401, 403, 404, 409, 413, 422},
    "webhook-delete_webhook": {401, 403, 404, 422},
}
"""What the rules derive today, written out; the test below sends each pair for
real.
"""


# The 503 of a statement or lock timeout comes from one handler for the whole
# app; it is sent for real on one route by
# `test_a_statement_cancelled_by_statement_timeout_is_a_503` and
# `test_a_write_cancelled_by_lock_timeout_is_a_503_and_changes_nothing`, not
# once per route below.
DATABASE_TIMEOUT = {
    operation_id: {503}
    for operation_id in ERRORS_BY_OPERATION
    if operation_id.startswith(("messaging-", "webhook-"))
}


def test_the_derivation_finds_each_kind_of_error(settings: Settings) -> None:
    """The rules above read the routes right: each status is derived for at
    least the routes known to send it.
    """
    app = create_app()
    derived = {
        context.unique_id: statuses_the_route_can_send(context)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
    }

    assert derived == {
        operation_id: statuses | DATABASE_TIMEOUT.get(operation_id, set())
        for operation_id, statuses in ERRORS_BY_OPERATION.items()
    }


# --8<-- [start:test_actual_errors_match]
MESSAGE = {
    "channel": "sms",
    "recipient": "+15550100",
    "body": "Hi",
    "client_ref": "contract-1",
}
WEBHOOK = {
    "target_url": "https://hooks.example.com/contract",
    "event": "message.created",
}
VALID_BODY: dict[str, object] = {
    "messaging-create_message": MESSAGE,
    "messaging-create_messages": [MESSAGE],
    "messaging-update_message": {"body": "Hi again"},
    "webhook-create_webhook": WEBHOOK,
    "webhook-update_webhook": {"description": "contract"},
}
ROUTE_OF = {
    operation_id: route.split(" ")
    for route, operation_id in OPERATION_IDS.items()
}


async def send(
    client: AsyncClient,
    operation_id: str,
    *,
    row_id: str = "",
    body: object = None,
    headers: dict[str, str] | None = None,
    params: dict[str, int] | None = None,
    content: bytes | None = None,
) -> Response:
    """One request to the operation: a valid body unless `body` is given, a new
    id in the path unless `row_id` is.
    """
    method, template = ROUTE_OF[operation_id]
    path = re.sub(r"\{\w+\}", row_id or str(uuid.uuid4()), template)
    # any version, so the update gets past its 428
    if operation_id == "messaging-update_message":
        headers = {"If-Match": "*"} | (headers or {})
    json = VALID_BODY.get(operation_id) if body is None else body
    if content is not None:
        return await client.request(
            method,
            path,
            content=content,
            headers={"Content-Type": "application/json"} | (headers or {}),
        )
    return await client.request(
        method,
        path,
        json=json if method in {"POST", "PATCH"} else None,
        headers=headers,
        params=params,
    )


async def provoke(
    status: int,
    operation_id: str,
    client: AsyncClient,
    app: FastAPI,
    make_token: Callable[..., str],
    settings: Settings,
) -> Response:
    """Make the route answer `status` the way a real client would make it."""
    match status:
        case 400:
            # not UTF-8
            return await send(client, operation_id, content=b"\xff")
        case 401:
            return await send(
                client, operation_id, headers={"Authorization": ""}
            )
        case 403:
            return await send(
                client,
                operation_id,
                headers={"Authorization": f"Bearer {make_token(scope='')}"},
            )
        case 404:
            return await send(client, operation_id)
        case 412:
            created = await client.post(
                "/api/v1/messages",
                json=MESSAGE | {"client_ref": "contract-412"},
            )
            stale = {"If-Match": '"999"'}  # a version this message never had
            return await send(
                client,
                operation_id,
                row_id=created.json()["id"],
                headers=stale,
            )
        case 413:
            return await send(
                client,
                operation_id,
                content=b" " * (settings.max_request_body_bytes + 1),
            )
        case 428:
            created = await client.post(
                "/api/v1/messages",
                json=MESSAGE | {"client_ref": "contract-428"},
            )
            method, template = ROUTE_OF[operation_id]
            return await client.request(
                method,
                template.replace("{message_id}", created.json()["id"]),
                json={"body": "x"},
            )
        case 409 if operation_id == "webhook-update_webhook":
            taken = await client.post("/api/v1/webhooks", json=WEBHOOK)
            other = await client.post(
                "/api/v1/webhooks",
                json=WEBHOOK | {"target_url": "https://hooks.example.com/b"},
            )
            assert (taken.status_code, other.status_code) == (201, 201)
            return await send(
                client,
                operation_id,
                row_id=other.json()["id"],
                body={"target_url": WEBHOOK["target_url"]},
            )
        case 409 if operation_id == "messaging-create_messages":
            return await send(client, operation_id, body=[MESSAGE, MESSAGE])
        case 409:
            assert (await send(client, operation_id)).status_code == 201
            return await send(client, operation_id)
        case 422 if (
            operation_id.endswith(("_messages", "_webhooks"))
            and ROUTE_OF[operation_id][0] == "GET"
        ):
            return await send(client, operation_id, params={"limit": 0})
        case 422 if "{" in ROUTE_OF[operation_id][1]:
            return await send(client, operation_id, row_id="not-a-uuid")
        case 422:
            return await send(client, operation_id, body={"unexpected": True})
        case 429:
            settings.message_rate_limit_per_minute = 1
            assert (await send(client, operation_id)).status_code == 201
            second = MESSAGE | {"client_ref": "contract-2"}
            return await send(
                client,
                operation_id,
                body=[second] if operation_id.endswith("s") else second,
            )
        case _:
            assert status == 503, status
            # nothing listens on port 1
            unreachable = Redis.from_url("redis://127.0.0.1:1/0")
            app.dependency_overrides[get_redis] = lambda: unreachable
            response = await send(client, operation_id)
            await unreachable.aclose()
            return response


@pytest.mark.parametrize(
    ("operation_id", "status"),
    [
        (operation_id, status)
        for operation_id, statuses in ERRORS_BY_OPERATION.items()
        for status in sorted(statuses)
    ],
)
async def test_each_error_a_route_sends_matches_its_documentation(
    operation_id: str,
    status: int,
    app: FastAPI,
    client: AsyncClient,
    make_token: Callable[..., str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # restored
    monkeypatch.setattr(
        settings,
        "message_rate_limit_per_minute",
        settings.message_rate_limit_per_minute,
    )
    openapi = app.openapi()
    method, path = ROUTE_OF[operation_id]
    documented = openapi["paths"][path][method.lower()]["responses"]

    response = await provoke(
        status, operation_id, client, app, make_token, settings
    )

    assert response.status_code == status, response.text
    assert (
        response.headers["content-type"] in documented[str(status)]["content"]
    )
    for header in documented[str(status)].get("headers", {}):
        assert header in response.headers
    # Schemathesis, a client nobody here wrote, checks the body against the
    # documented schema.
    schemathesis.openapi.from_dict(openapi)[path][method].validate_response(
        response
    )


# --8<-- [end:test_actual_errors_match]


# --8<-- [start:test_document_refuses_what_models_refuse]
@pytest.mark.parametrize(
    ("model", "body", "accepted"),
    [
        # `reject_empty`: the document says `minProperties: 1`
        (
            MessageUpdate,
            {},
            False,
        ),
        # `reject_null`: the document offers no `null`
        (
            MessageUpdate,
            {"body": None},
            False,
        ),
        (WebhookUpdate, {"event": None}, False),
        # `null` clears the description: offered, and taken
        (
            WebhookUpdate,
            {"description": None},
            True,
        ),
        # whitespace only
        (
            MessageCreate,
            MESSAGE | {"recipient": " \t"},
            False,
        ),
        (MessageCreate, MESSAGE | {"recipient": " x "}, True),
        # an ideographic space is stripped too
        (
            WebhookCreate,
            WEBHOOK | {"description": "\u3000"},
            False,
        ),
        # `str.strip()` strips it; Rust's `\\s` does not match it
        (
            MessageCreate,
            MESSAGE | {"body": "\x1c"},
            False,
        ),
        # 321 sent: stripping comes after the check
        (
            MessageCreate,
            MESSAGE | {"recipient": " " + "x" * 320},
            False,
        ),
    ],
)
def test_the_document_refuses_exactly_what_the_model_refuses(
    settings: Settings,
    model: type[BaseModel],
    body: dict[str, object],
    accepted: bool,
) -> None:
    components = create_app().openapi()["components"]
    document = jsonschema_rs.validator_for(
        {
            "$ref": f"#/components/schemas/{model.__name__}",
            "components": components,
        }
    )
    try:
        model.model_validate(body)
    except ValidationError:
        taken = False
    else:
        taken = True

    assert (taken, document.is_valid(body)) == (accepted, accepted)


# --8<-- [end:test_document_refuses_what_models_refuse]
