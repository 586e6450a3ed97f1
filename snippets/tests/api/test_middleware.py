"""The middleware stack: what every answer carries, and proof that the layers
are in the right order.
"""

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from loguru import logger
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.middleware.body_size import BodySizeLimitMiddleware
from app.api.middleware.request_id import RequestIdMiddleware
from app.api.middleware.security_headers import (
    API_CSP,
    DOCS_CSP,
    SecurityHeadersMiddleware,
)
from app.core.config import Settings

ALLOWED_ORIGIN = (  # the settings fixture allows exactly this origin
    "https://app.test"
)


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    """The app with one extra route that fails the way a bug would."""

    async def fail() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/fail", fail)
    return app


def assert_security_headers(response: Response) -> None:
    assert response.headers["content-security-policy"] == API_CSP
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "x-xss-protection" not in response.headers
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


# --8<-- [start:test_headers_on_every_answer]
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/livez", 200),
        ("GET", "/nothing-here", 404),
        ("GET", "/api/v1/messages", 401),
        ("POST", "/livez", 405),
        ("GET", "/fail", 500),
    ],
)
async def test_every_answer_carries_security_headers_and_request_id(
    failing_app: FastAPI,
    anonymous_client: AsyncClient,
    method: str,
    path: str,
    status: int,
) -> None:
    response = await anonymous_client.request(method, path)

    assert response.status_code == status
    assert_security_headers(response)


async def test_validation_error_carries_them_too(client: AsyncClient) -> None:
    response = await client.get("/api/v1/messages", params={"limit": 0})

    assert response.status_code == 422
    assert_security_headers(response)


# --8<-- [end:test_headers_on_every_answer]


# --8<-- [start:test_middleware_order]
def test_layers_from_the_outside_in(app: FastAPI) -> None:
    # `user_middleware[0]` is the outermost layer: the one `create_app` added
    # last.
    layers: list[object] = [
        middleware.cls for middleware in app.user_middleware
    ]
    assert layers == [
        RequestIdMiddleware,
        SecurityHeadersMiddleware,
        CORSMiddleware,
        BodySizeLimitMiddleware,
        ServerErrorMiddleware,
    ]


async def test_every_error_to_an_allowed_origin_keeps_its_cors_headers(
    failing_app: FastAPI,
    anonymous_client: AsyncClient,
    make_token: Callable[..., str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The token check, the rate limit and the handlers all answer inside CORS,
    # so their errors pass out through it.
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 1)
    origin = {"Origin": ALLOWED_ORIGIN}
    signed_in = origin | {"Authorization": f"Bearer {make_token()}"}
    read_only = origin | {
        "Authorization": f"Bearer {make_token(scope='messages:read')}"
    }
    body = {"channel": "sms", "recipient": "+15550100", "body": "Hi"}

    answers = {
        401: await anonymous_client.get("/api/v1/messages", headers=origin),
        403: await anonymous_client.post(
            "/api/v1/messages",
            headers=read_only,
            json=body | {"client_ref": "r0"},
        ),
        404: await anonymous_client.get(
            f"/api/v1/messages/{uuid.uuid4()}", headers=signed_in
        ),
        422: await anonymous_client.get(
            "/api/v1/messages", headers=signed_in, params={"limit": 0}
        ),
        500: await anonymous_client.get("/fail", headers=origin),
    }
    await anonymous_client.post(
        "/api/v1/messages", headers=signed_in, json=body | {"client_ref": "r1"}
    )
    answers[429] = await anonymous_client.post(
        "/api/v1/messages", headers=signed_in, json=body | {"client_ref": "r2"}
    )

    assert {
        status: answer.status_code for status, answer in answers.items()
    } == {status: status for status in answers}
    for answer in answers.values():
        assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert (
            "X-Request-ID" in answer.headers["access-control-expose-headers"]
        )


async def test_500_to_an_allowed_origin_keeps_its_cors_headers(
    failing_app: FastAPI, anonymous_client: AsyncClient
) -> None:
    response = await anonymous_client.get(
        "/fail", headers={"Origin": ALLOWED_ORIGIN}
    )

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert_security_headers(response)


async def test_preflight_needs_no_token_and_gets_every_header(
    anonymous_client: AsyncClient,
) -> None:
    response = await anonymous_client.options(
        "/api/v1/messages",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert_security_headers(response)


# --8<-- [end:test_middleware_order]


async def test_a_browser_may_send_an_idempotency_key_and_read_retry_after(
    client: AsyncClient,
) -> None:
    preflight = await client.options(
        "/api/v1/messages",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": (
                "authorization, content-type, idempotency-key"
            ),
        },
    )
    read = await client.get(
        "/api/v1/messages", headers={"Origin": ALLOWED_ORIGIN}
    )

    # else 400: the browser never sends the POST
    assert preflight.status_code == 200
    # of a 429 or a 503
    assert "Retry-After" in read.headers["access-control-expose-headers"]


# --8<-- [start:test_other_origins]
async def test_other_origins_get_no_cors_grant(client: AsyncClient) -> None:
    response = await client.get(
        "/api/v1/messages", headers={"Origin": "https://evil.test"}
    )
    preflight = await client.options(
        "/api/v1/messages",
        headers={
            "Origin": "https://evil.test",
            "Access-Control-Request-Method": "GET",
        },
    )

    # CORS is enforced by the browser, which sees no grant below
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    # Starlette answers before the app runs
    assert preflight.headers["content-type"].startswith("text/plain")


# --8<-- [end:test_other_origins]


# --8<-- [start:test_request_id]
async def test_well_formed_request_id_is_kept_and_logged(
    failing_app: FastAPI, anonymous_client: AsyncClient
) -> None:
    request_ids: list[object] = []
    sink = logger.add(
        lambda message: request_ids.append(
            message.record["extra"].get("request_id")
        ),
        # the test's own client logs outside the request
        filter=lambda record: record["name"] != "httpx",
    )
    try:
        response = await anonymous_client.get(
            "/fail", headers={"X-Request-ID": "lb-7f3a.42"}
        )
    finally:
        logger.remove(sink)

    assert response.headers["x-request-id"] == "lb-7f3a.42"
    assert request_ids  # the 500 handler logged the error...
    # ...and every line written meanwhile carries the caller's id
    assert set(request_ids) == {"lb-7f3a.42"}


@pytest.mark.parametrize(
    "incoming", ["has spaces", "x" * 129, "line\\nbreak", ""]
)
async def test_malformed_request_id_is_replaced(
    anonymous_client: AsyncClient, incoming: str
) -> None:
    response = await anonymous_client.get(
        "/livez", headers={"X-Request-ID": incoming}
    )

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


# --8<-- [end:test_request_id]


# --8<-- [start:test_docs_csp]
LINK_DIRECTIVES = {"stylesheet": "style-src", "shortcut icon": "img-src"}
"""The CSP directive that governs each kind of `<link>`; a kind not listed
fails the test, naming it.
"""


def loaded_from_elsewhere(html: str) -> list[tuple[str, str]]:
    """`(directive, origin)` for every script and link on the page that loads
    from another origin.
    """
    loaded = []
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
        origin = re.search(r'(?:src|href)="(https://[^/"]+)', tag)
        rel = re.search(r'rel="([^"]+)"', tag)
        if origin is not None:
            directive = (
                "script-src"
                if tag.startswith("<script")
                else LINK_DIRECTIVES[rel.group(1) if rel else tag]
            )
            loaded.append((directive, origin.group(1)))
    return loaded


async def test_docs_page_gets_a_csp_that_allows_what_it_loads(
    anonymous_client: AsyncClient,
) -> None:
    response = await anonymous_client.get("/docs")

    assert response.headers["content-security-policy"] == DOCS_CSP
    policy = {
        name: sources.split()
        for name, _, sources in (
            part.partition(" ") for part in DOCS_CSP.split("; ")
        )
    }
    loaded = loaded_from_elsewhere(response.text)
    # the page does load from elsewhere; if FastAPI changes CDN, this names it
    assert loaded
    for directive, origin in loaded:
        assert origin in policy[directive], (
            f"{origin} is loaded but {directive} does not allow it"
        )
    assert policy["frame-ancestors"] == ["'none'"]


# --8<-- [end:test_docs_csp]


# --8<-- [start:test_wrong_order]
def reject_without_token(app: ASGIApp) -> ASGIApp:
    """A middleware that answers 401 itself, as an auth or rate-limit
    middleware would.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("no token", status_code=401)(
            scope, receive, send
        )

    return middleware


@pytest.mark.parametrize(
    ("cors_added", "browser_sees_the_401"), [("first", False), ("last", True)]
)
async def test_cors_must_be_added_after_layers_that_answer_early(
    cors_added: str, browser_sees_the_401: bool
) -> None:
    app = FastAPI()
    # the original convention: CORS becomes the innermost layer
    if cors_added == "first":
        app.add_middleware(CORSMiddleware, allow_origins=[ALLOWED_ORIGIN])
        app.add_middleware(reject_without_token)
    else:
        app.add_middleware(reject_without_token)
        app.add_middleware(CORSMiddleware, allow_origins=[ALLOWED_ORIGIN])
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/", headers={"Origin": ALLOWED_ORIGIN})

    assert response.status_code == 401
    # Without the header the browser hides the 401 and reports a CORS error
    # instead.
    assert (
        "access-control-allow-origin" in response.headers
    ) is browser_sees_the_401


async def test_an_exception_handler_for_500_runs_outside_every_middleware() -> (
    None
):
    app = FastAPI()

    async def fail() -> None:
        raise RuntimeError("a bug")

    async def problem(request: object, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("internal error", status_code=500)

    app.add_api_route("/fail", fail)
    # Starlette runs it in ServerErrorMiddleware, outermost
    app.add_exception_handler(Exception, problem)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=[ALLOWED_ORIGIN])
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        response = await client.get(
            "/fail", headers={"Origin": ALLOWED_ORIGIN}
        )

    assert response.status_code == 500
    # why create_app handles 500s innermost
    assert "access-control-allow-origin" not in response.headers
    # nor did the security headers reach it
    assert "content-security-policy" not in response.headers


# --8<-- [end:test_wrong_order]


async def test_a_wildcard_origin_with_credentials_grants_every_origin_its_cookies() -> (
    None
):
    """`allow_origins=["*"]` with `allow_credentials=True`: Starlette answers
    any site by name, credentials allowed.
    """
    anything = CORSMiddleware(
        PlainTextResponse("your data"),
        allow_origins=["*"],
        allow_credentials=True,
    )
    hostile = {"Origin": "https://attacker.example", "Cookie": "session=ada"}
    async with AsyncClient(
        transport=ASGITransport(app=anything), base_url="http://test"
    ) as client:
        read = await client.get("/", headers=hostile)
        preflight = await client.options(
            "/",
            headers={
                "Origin": "https://attacker.example",
                "Access-Control-Request-Method": "DELETE",
            },
        )

    for response in (read, preflight):
        # not "*"
        assert (
            response.headers["access-control-allow-origin"]
            == "https://attacker.example"
        )
        assert response.headers["access-control-allow-credentials"] == "true"
