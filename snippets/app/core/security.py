"""Access-token verification: a signed JWT in, a typed principal out. Knows
nothing of HTTP.
"""

from dataclasses import dataclass
from datetime import timedelta

import jwt

from app.core.config import Settings

# --8<-- [start:verify_token]
CLOCK_SKEW = timedelta(seconds=10)
"""How far the issuer's clock may run ahead of ours; minutes here would extend
every token's life.
"""

REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
"""PyJWT checks `exp` only when present (`iss`, `aud` once an issuer, audience
is passed); all four are required.
"""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the token's issuer vouches for it."""

    subject: str
    scopes: frozenset[str]


def verify_access_token(token: str, settings: Settings) -> Principal:
    """Check signature, algorithm, expiry, issuer and audience; raise
    `jwt.InvalidTokenError` on any failure.
    """
    claims = jwt.decode(
        token,
        settings.jwt_secret.get_secret_value(),
        # pinned: the token's own `alg` header is never trusted
        algorithms=settings.jwt_algorithms,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        leeway=CLOCK_SKEW,
        options={"require": REQUIRED_CLAIMS},
    )
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise jwt.InvalidTokenError("scope must be a space-separated string")
    return Principal(subject=claims["sub"], scopes=frozenset(scope.split()))


# --8<-- [end:verify_token]
