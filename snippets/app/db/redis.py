"""The Redis client: one connection pool per process, opened and closed by the
lifespan.
"""

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from app.core.config import Settings


# --8<-- [start:redis_client]
def create_redis(settings: Settings) -> Redis:
    """A client over a pool; connections open on first use, so start-up does
    not need Redis up.
    """
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        # PING an idle connection before reuse, like pool_pre_ping
        health_check_interval=30,
        decode_responses=True,
    )


def get_redis(request: Request) -> Redis:
    """The process's client, from the lifespan state."""
    redis: Redis = request.state.redis
    return redis


RedisDep = Annotated[Redis, Depends(get_redis)]
# --8<-- [end:redis_client]
