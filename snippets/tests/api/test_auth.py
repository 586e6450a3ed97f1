"""Bearer-token authentication: every way a token can be wrong gets a 401
challenge; the right one gets in.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.routing import iter_route_contexts
from httpx import AsyncClient

from app.api import auth
from app.api.api import root_router
from app.core.config import Settings
from app.core.security import Principal, verify_access_token

MESSAGES = "/api/v1/messages"
WEBHOOKS = "/api/v1/webhooks"
INVALID = 'Bearer error="invalid_token"'


def claims_at(offset: timedelta) -> dict[str, datetime]:
    """`exp` at now + offset, for tokens that are about to expire or already
    have.
    """
    return {"exp": datetime.now(UTC) + offset}


# --8<-- [start:test_missing_token]
@pytest.mark.parametrize(
    "authorization", [None, "Basic dXNlcjpwYXNz", "Bearer"]
)
async def test_missing_token_is_challenged_without_error_code(
    anonymous_client: AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await anonymous_client.get(MESSAGES, headers=headers)

    assert response.status_code == 401
    # RFC 6750: no error code when nothing was sent
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "A bearer token is required",
        "instance": MESSAGES,
    }


# --8<-- [end:test_missing_token]


# --8<-- [start:test_invalid_tokens]
def wrong_tokens(
    settings: Settings, make_token: Callable[..., str]
) -> dict[str, str]:
    """One token per check the service must make; each fails exactly that
    check.
    """
    secret = settings.jwt_secret.get_secret_value()
    valid_claims = jwt.decode(
        make_token(),
        secret,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
    )
    return {
        "malformed": "not-a-jwt",
        "wrong signature": jwt.encode(
            valid_claims,
            "another-secret-of-at-least-32-chars!",
            algorithm="HS256",
        ),
        # the "none" algorithm takes an empty key
        "alg none": jwt.encode(valid_claims, "", algorithm="none"),
        "alg not pinned": jwt.encode(
            valid_claims, secret + secret, algorithm="HS512"
        ),
        "wrong audience": make_token(aud="another-service"),
        "wrong issuer": make_token(iss="https://evil.test/"),
        "no expiry": jwt.encode(
            {k: v for k, v in valid_claims.items() if k != "exp"},
            secret,
            algorithm="HS256",
        ),
        "no subject": jwt.encode(
            {k: v for k, v in valid_claims.items() if k != "sub"},
            secret,
            algorithm="HS256",
        ),
        "scope not a string": make_token(scope=["messages:write"]),
    }


@pytest.mark.parametrize(
    "case",
    [
        "malformed",
        "wrong signature",
        "alg none",
        "alg not pinned",
        "wrong audience",
        "wrong issuer",
        "no expiry",
        "no subject",
        "scope not a string",
    ],
)
async def test_invalid_token_is_401_invalid_token(
    anonymous_client: AsyncClient,
    settings: Settings,
    make_token: Callable[..., str],
    case: str,
) -> None:
    token = wrong_tokens(settings, make_token)[case]

    response = await anonymous_client.get(
        MESSAGES, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == INVALID
    # which check failed stays in the server
    assert response.json()["detail"] == "The bearer token is invalid"


# --8<-- [end:test_invalid_tokens]


# --8<-- [start:test_expiry]
async def test_expired_token_says_so(
    anonymous_client: AsyncClient, make_token: Callable[..., str]
) -> None:
    token = make_token(**claims_at(-timedelta(minutes=1)))

    response = await anonymous_client.get(
        MESSAGES, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(INVALID)
    assert (
        'error_description="The token expired"'
        in response.headers["www-authenticate"]
    )
    assert response.json()["detail"] == "The bearer token has expired"


async def test_small_clock_skew_is_tolerated(
    anonymous_client: AsyncClient, make_token: Callable[..., str]
) -> None:
    token = make_token(**claims_at(-timedelta(seconds=3)))  # within CLOCK_SKEW

    response = await anonymous_client.get(
        MESSAGES, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200


# --8<-- [end:test_expiry]


# --8<-- [start:test_valid_token]
async def test_valid_token_gets_through(client: AsyncClient) -> None:
    # `client` sends a valid token with every request
    response = await client.get(MESSAGES)

    assert response.status_code == 200


async def test_writing_needs_the_write_scope(
    anonymous_client: AsyncClient, make_token: Callable[..., str]
) -> None:
    read_only = {
        "Authorization": f"Bearer {make_token(scope='messages:read')}"
    }
    body = {
        "channel": "sms",
        "recipient": "+15550100",
        "body": "Hi",
        "client_ref": "scope-test",
    }

    listed = await anonymous_client.get(MESSAGES, headers=read_only)
    created = await anonymous_client.post(
        MESSAGES, headers=read_only, json=body
    )

    assert listed.status_code == 200
    assert created.status_code == 403
    assert (
        created.headers["www-authenticate"]
        == 'Bearer error="insufficient_scope", scope="messages:write"'
    )
    assert (
        created.json()["detail"]
        == "The bearer token lacks the scope messages:write"
    )


async def test_token_is_verified_once_per_request(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting_verify(token: str, settings: Settings) -> Principal:
        calls.append(token)
        return verify_access_token(token, settings)

    monkeypatch.setattr(auth, "verify_access_token", counting_verify)
    body = {
        "channel": "sms",
        "recipient": "+15550100",
        "body": "Hi",
        "client_ref": "once",
    }

    # the router and RequireScope both need the principal
    response = await client.post(MESSAGES, json=body)

    assert response.status_code == 201
    assert len(calls) == 1


# --8<-- [end:test_valid_token]


# --8<-- [start:test_scopes]
async def test_changing_webhooks_needs_the_webhook_scope(
    anonymous_client: AsyncClient, make_token: Callable[..., str]
) -> None:
    messages_only = {
        "Authorization": f"Bearer {make_token(scope='messages:write')}"
    }
    subscription = {
        "target_url": "https://hooks.example.com/orders",
        "event": "message.created",
    }
    some_id = uuid.uuid4()

    answers = [
        await anonymous_client.post(
            WEBHOOKS, headers=messages_only, json=subscription
        ),
        await anonymous_client.patch(
            f"{WEBHOOKS}/{some_id}",
            headers=messages_only,
            json={"is_active": False},
        ),
        await anonymous_client.delete(
            f"{WEBHOOKS}/{some_id}", headers=messages_only
        ),
    ]
    listed = await anonymous_client.get(WEBHOOKS, headers=messages_only)

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert {answer.headers["www-authenticate"] for answer in answers} == {
        'Bearer error="insufficient_scope", scope="webhooks:write"'
    }
    assert listed.status_code == 200


WRITE_SCOPES = {
    "/api/v1/messages": "messages:write",
    "/api/v1/webhooks": "webhooks:write",
}
"""The scope each domain's writes require; a new domain adds its line here."""


def test_every_route_that_changes_data_requires_its_domain_scope() -> None:
    # Every route as mounted (full path, router dependencies included);
    # "changes data" means any method but GET and HEAD, so a GET that writes
    # would go unnoticed: there is none.
    required = {
        (method, context.path): {
            dependency.call.scope
            for dependency in context.dependant.dependencies
            if isinstance(dependency.call, auth.RequireScope)
        }
        for context in iter_route_contexts(root_router.routes)
        for method in sorted(set(context.methods or ()) - {"GET", "HEAD"})
    }
    domain_scope = {
        route: (
            {
                scope
                for prefix, scope in WRITE_SCOPES.items()
                if str(route[1]).startswith(prefix)
            }
            or {"?"}
        )
        for route in required
    }
    wrong = {
        route: scopes
        for route, scopes in required.items()
        if scopes != domain_scope[route]
    }

    # the walk saw the service: four routes of messages, three of webhooks
    assert len(required) >= 7
    assert wrong == {}, (
        "each route that changes data depends on RequireScope(<its domain's"
        " scope>)"
    )


# --8<-- [end:test_scopes]


# --8<-- [start:test_public_routes]
@pytest.mark.parametrize(
    "path", ["/livez", "/readyz", "/docs", "/openapi.json"]
)
async def test_probes_and_docs_need_no_token(
    anonymous_client: AsyncClient, path: str
) -> None:
    response = await anonymous_client.get(path)

    assert response.status_code == 200


async def test_openapi_documents_the_bearer_scheme(
    anonymous_client: AsyncClient,
) -> None:
    openapi = (await anonymous_client.get("/openapi.json")).json()

    assert openapi["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "An access token from the issuer in `JWT_ISSUER`, for the audience"
            " in `JWT_AUDIENCE`."
        ),
    }
    list_messages = openapi["paths"][MESSAGES]["get"]
    assert list_messages["security"] == [{"HTTPBearer": []}]
    assert "401" in list_messages["responses"]
    assert "403" in openapi["paths"][MESSAGES]["post"]["responses"]
    assert "security" not in openapi["paths"]["/livez"]["get"]


# --8<-- [end:test_public_routes]


async def test_require_scope_hands_the_principal_on() -> None:
    principal = Principal(
        subject="service-a", scopes=frozenset({"messages:write"})
    )

    assert await auth.RequireScope("messages:write")(principal) is principal
