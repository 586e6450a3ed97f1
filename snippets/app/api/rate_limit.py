"""A fixed-window rate limit per client address, atomic in Redis, counting
requests or messages.
"""

import math
from collections.abc import Callable

from fastapi import HTTPException, Request, status
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.api.problem_details import Problem
from app.core.config import Settings, get_settings
from app.db.redis import RedisDep

# --8<-- [start:rate_limit_script]
# Runs in Redis as one step: no other command runs between the GET, the INCRBY
# and the PEXPIRE, and a crash of the API process cannot leave a counter
# without its expiry. KEYS[1]: the counter. ARGV: the window in ms, the cost of
# this request, the limit. A request that does not fit adds nothing, so a
# refused batch does not use up the window. The TTL is repaired before the
# limit check, so a full counter left without one still expires.
COUNT_IN_WINDOW = """
-- A counter without a TTL (-1; -2 is no key): repair it first.
if redis.call('PTTL', KEYS[1]) == -1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local count = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[2])
if count > tonumber(ARGV[3]) then
    return {0, redis.call('PTTL', KEYS[1])}
end
redis.call('INCRBY', KEYS[1], ARGV[2])
-- The first request of a window created the counter.
if redis.call('PTTL', KEYS[1]) == -1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {1, redis.call('PTTL', KEYS[1])}
"""
# --8<-- [end:rate_limit_script]


# --8<-- [start:rate_limited_responses]
RATE_LIMITED_RESPONSES: dict[int | str, dict[str, object]] = {
    429: {
        "model": Problem,
        "description": (
            "The client address has used up its limit for the current window"
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds until the window resets",
                "schema": {"type": "integer"},
            }
        },
    },
    503: {
        "model": Problem,
        "description": "Redis, which counts the requests, is unavailable",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        },
    },
}
"""Passed as `responses=` by each endpoint a `RateLimit` protects."""
# --8<-- [end:rate_limited_responses]


# --8<-- [start:rate_limiter]
class RateLimit:
    """Allows `limit(settings)` units (requests, or messages) per
    `window_seconds` for each client address.

    As a dependency, each request costs one; an endpoint that does more than
    one unit of work calls `spend` with its cost instead.

    `request.client.host` is the peer address. Behind a proxy, run uvicorn with
    `--proxy-headers` and `FORWARDED_ALLOW_IPS=<proxy addresses>` so it is the
    real client's; never read `X-Forwarded-For` yourself, since any client can
    send one.
    """

    def __init__(
        self,
        name: str,
        *,
        limit: Callable[[Settings], int],
        window_seconds: int,
        unit: str = "requests",
    ) -> None:
        self.name = name
        # read per request, so importing the router needs no settings
        self.limit = limit
        self.window_ms = window_seconds * 1000
        self.unit = unit

    async def __call__(self, request: Request, redis: RedisDep) -> None:
        """The dependency: one request, one unit."""
        await self.spend(request, redis, cost=1)

    async def spend(self, request: Request, redis: Redis, cost: int) -> None:
        """Count `cost` units for the client, or raise and count nothing.

        Raises:
            HTTPException: 429 with `Retry-After` if `cost` does not fit in
                what is left of the window; 422 if it exceeds the whole limit,
                since no window would let it through.
        """
        limit = self.limit(get_settings())
        window = f"at most {limit} {self.unit} per {self.window_ms // 1000} s"
        # no window would ever let it through: waiting cannot help
        if cost > limit:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"{window}; send smaller batches",
            )
        client = request.client.host if request.client else "unknown"
        key = f"rate:{self.name}:{client}"
        try:
            allowed, ttl_ms = await redis.eval(
                COUNT_IN_WINDOW, 1, key, self.window_ms, cost, limit
            )
        # nothing was done: a 503 tells the client to retry, a 500 would not
        except RedisError as error:
            logger.error(
                "rate limit {name} unavailable",
                name=self.name,
                error=str(error),
            )
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="rate limit unavailable; retry later",
                headers={"Retry-After": "1"},
            ) from error
        if not allowed:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"{window}; retry later",
                headers={"Retry-After": str(max(1, math.ceil(ttl_ms / 1000)))},
            )


# --8<-- [end:rate_limiter]
