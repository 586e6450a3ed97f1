"""Bearer-token authentication as FastAPI dependencies; answers RFC 6750
challenges as problem details.
"""

from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.problem_details import Problem
from app.core.config import get_settings
from app.core.security import Principal, verify_access_token

# --8<-- [start:bearer_dependency]
bearer_scheme = HTTPBearer(
    # we answer 401 ourselves, with the RFC 6750 challenge and a problem body
    auto_error=False,
    bearerFormat="JWT",
    description=(
        "An access token from the issuer in `JWT_ISSUER`, for the audience in"
        " `JWT_AUDIENCE`."
    ),
)

BearerCredentials = Annotated[
    HTTPAuthorizationCredentials | None, Depends(bearer_scheme)
]


def unauthorized(detail: str, challenge: str) -> HTTPException:
    """A 401 whose `WWW-Authenticate` header tells the client what to fix (RFC
    6750, section 3).
    """
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": challenge},
    )


async def get_current_principal(credentials: BearerCredentials) -> Principal:
    """The caller of this request; 401 when the bearer token is missing or
    fails any check.
    """
    if credentials is None:
        # No credentials at all: RFC 6750 says to challenge without an error
        # code.
        raise unauthorized("A bearer token is required", "Bearer")
    try:
        return verify_access_token(credentials.credentials, get_settings())
    except jwt.ExpiredSignatureError:
        raise unauthorized(
            "The bearer token has expired",
            'Bearer error="invalid_token", error_description="The token'
            ' expired"',
        ) from None
    except jwt.InvalidTokenError:
        # One answer for every other failure: telling an attacker which check
        # failed only helps them.
        raise unauthorized(
            "The bearer token is invalid", 'Bearer error="invalid_token"'
        ) from None


CurrentPrincipalDep = Annotated[Principal, Depends(get_current_principal)]
# --8<-- [end:bearer_dependency]


# --8<-- [start:owner_dependency]
async def get_owner(principal: CurrentPrincipalDep) -> str:
    """Whose rows this request may reach: the token's subject. A tenant claim
    would be read here.
    """
    return principal.subject


OwnerDep = Annotated[str, Depends(get_owner)]
"""Services take it and build their tables with it; see `OwnedTable`."""
# --8<-- [end:owner_dependency]


# --8<-- [start:require_scope]
class RequireScope:
    """A dependency that lets the request through only if the token grants
    `scope`.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, principal: CurrentPrincipalDep) -> Principal:
        """Return the principal, or answer 403 with the RFC 6750
        `insufficient_scope` challenge.
        """
        if self.scope not in principal.scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"The bearer token lacks the scope {self.scope}",
                headers={
                    "WWW-Authenticate": (
                        'Bearer error="insufficient_scope",'
                        f' scope="{self.scope}"'
                    )
                },
            )
        return principal


# --8<-- [end:require_scope]


# --8<-- [start:auth_responses]
def problem_response_doc(description: str) -> dict[str, object]:
    """One OpenAPI response entry whose body is a problem document."""
    # filed under application/problem+json by `ServiceAPI`
    return {
        "model": Problem,
        "description": description,
    }


UNAUTHORIZED_RESPONSES: dict[int | str, dict[str, object]] = {
    401: problem_response_doc(
        "The bearer token is missing, expired or invalid"
    ),
}
"""Passed as `responses=` by the router that requires a token."""

FORBIDDEN_RESPONSES: dict[int | str, dict[str, object]] = {
    403: problem_response_doc("The bearer token lacks the required scope"),
}
"""Passed as `responses=` by each endpoint that requires a scope."""
# --8<-- [end:auth_responses]
