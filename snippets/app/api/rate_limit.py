"""A fixed-window rate limit per client address, atomic in Redis."""

import math
from collections.abc import Callable

from fastapi import HTTPException, Request, status

from app.core.config import Settings, get_settings
from app.db.redis import RedisDep

# --8<-- [start:rate_limit_script]
# INCR and PEXPIRE in one server-side step: with two round trips, a crash between them
# leaves a counter that never expires, and the client stays blocked for good.
COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
"""
# --8<-- [end:rate_limit_script]


# --8<-- [start:rate_limiter]
class RateLimit:
    """A dependency allowing `limit(settings)` requests per `window_seconds` for each client address.

    `request.client.host` is the peer address. Behind a proxy, run uvicorn with
    `--proxy-headers --forwarded-allow-ips=<proxy address>` so it is the real client's;
    never read `X-Forwarded-For` yourself, since any client can send one.
    """

    def __init__(self, name: str, *, limit: Callable[[Settings], int], window_seconds: int) -> None:
        self.name = name
        self.limit = limit  # read per request, so importing the router needs no settings
        self.window_ms = window_seconds * 1000

    async def __call__(self, request: Request, redis: RedisDep) -> None:
        limit = self.limit(get_settings())
        client = request.client.host if request.client else "unknown"
        key = f"rate:{self.name}:{client}"
        count, ttl_ms = await redis.eval(COUNT_IN_WINDOW, 1, key, self.window_ms)
        if count > limit:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"at most {limit} requests per {self.window_ms // 1000} s; retry later",
                headers={"Retry-After": str(max(1, math.ceil(ttl_ms / 1000)))},
            )


# --8<-- [end:rate_limiter]
