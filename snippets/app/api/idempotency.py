"""Idempotent POSTs: the `Idempotency-Key` header, and the first response
replayed to a retry.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header
from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.auth import CurrentPrincipalDep
from app.core.config import get_settings
from app.core.errors import IdempotencyKeyReusedError
from app.db.idempotency_key.model import IdempotencyKey
from app.db.idempotency_key.table import IdempotencyKeysTable


# --8<-- [start:idempotency_header]
@dataclass(frozen=True)
class IdempotentRequest:
    """A request that carries an `Idempotency-Key`, with the caller it belongs
    to.
    """

    principal: str
    key: str


def idempotent_request(
    principal: CurrentPrincipalDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            # Visible ASCII, no spaces: a UUID the client makes once per
            # operation and sends on every retry.
            pattern=r"^[!-~]{1,255}$",
            description=(
                "Send the same value when you retry this request: you get the"
                " first response back, "
                "and nothing is created twice. Keys are kept for"
                " `IDEMPOTENCY_KEY_TTL_HOURS`."
            ),
        ),
    ] = None,
) -> IdempotentRequest | None:
    """The key of this request, scoped to its caller, so one client cannot
    replay another's response.
    """
    if key is None:
        return None
    return IdempotentRequest(principal=principal.subject, key=key)


IdempotencyKeyDep = Annotated[
    IdempotentRequest | None, Depends(idempotent_request)
]
# --8<-- [end:idempotency_header]


# --8<-- [start:idempotency_keys]
def fingerprint(operation: str, payload: JsonValue) -> str:
    """A hash of what the request asks for: the same operation with the same
    validated body.
    """
    canonical = json.dumps(
        [operation, payload], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    """Used by a service inside the transaction that does the work: `replay`
    first, `save` last, so the key commits with the rows it guards or rolls
    back with them."""

    def __init__(self, session: AsyncSession) -> None:
        self.keys = IdempotencyKeysTable(session)

    async def replay(
        self, request: IdempotentRequest, operation: str, payload: JsonValue
    ) -> IdempotencyKey | None:
        """Claim the key and return `None`: do the work. Or return the row of
        the first request with this key: answer with its `response` and do
        nothing else.

        Raises:
            IdempotencyKeyReusedError: the key came with another operation or
                body before.
            IdempotencyKeyInFlightError: the first request with the key is
                still running.
        """
        settings = get_settings()
        row = IdempotencyKey(
            principal=request.principal,
            key=request.key,
            fingerprint=fingerprint(operation, payload),
            expires_at=datetime.now(UTC)
            + timedelta(hours=settings.idempotency_key_ttl_hours),
        )
        first = await self.keys.claim(
            row, wait_seconds=settings.idempotency_wait_seconds
        )
        if first is not None and first.fingerprint != row.fingerprint:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was used with another request body; use"
                " a new key for a new request."
            )
        return first

    async def save(
        self, request: IdempotentRequest, response: JsonValue
    ) -> None:
        """Store the response body (JSON) that the retries of this request get
        back.
        """
        await self.keys.save_response(request.principal, request.key, response)


# --8<-- [end:idempotency_keys]
