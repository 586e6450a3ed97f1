"""Cache-aside for Pydantic models in Redis."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import cache

from loguru import logger
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError


# --8<-- [start:json_cache]
@cache
def schema_version(model: type[BaseModel]) -> str:
    """A short hash of the model's JSON schema: a release that changes the
    shape reads new keys.
    """
    schema = json.dumps(model.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:12]


class JsonCache[ItemT: BaseModel]:
    """Read through Redis, fall back to a loader, store the result as JSON with
    a TTL.

    The database stays the source of truth: writers change it first and call
    `invalidate` after their transaction commits; the TTL bounds how long any
    missed invalidation lasts. The cache only speeds reads up: when Redis
    fails, the loader answers and nothing raises.
    """

    def __init__(
        self,
        redis: Redis,
        model: type[ItemT],
        *,
        prefix: str,
        ttl_seconds: int,
    ) -> None:
        self.redis = redis
        self.model = model
        self.prefix = f"{prefix}:{schema_version(model)}"
        self.ttl_seconds = ttl_seconds

    def key(self, item_id: object) -> str:
        return f"{self.prefix}:{item_id}"

    async def get_or_load(
        self, item_id: object, load: Callable[[], Awaitable[ItemT]]
    ) -> ItemT:
        """Return the cached item, or load it, cache it and return it. Errors
        are not cached.
        """
        key = self.key(item_id)
        try:
            cached = await self.redis.get(key)
        except RedisError as error:
            logger.warning(
                "cache read of {key} failed; loading instead",
                key=key,
                error_type=type(error).__name__,
                error=str(error),
            )
            # and no write: it would wait out the same timeout again
            return await load()
        if cached is not None:
            try:
                return self.model.model_validate_json(cached)
            # written by a release whose validators differ: a miss
            except ValidationError:
                logger.warning(
                    "cached {key} no longer validates; replacing it", key=key
                )
        item = await load()
        try:
            await self.redis.set(
                key, item.model_dump_json(), ex=self.ttl_seconds
            )
        except RedisError as error:
            logger.warning(
                "cache write of {key} failed",
                key=key,
                error_type=type(error).__name__,
                error=str(error),
            )
        return item

    async def invalidate(self, item_id: object) -> None:
        """Forget the item; call only after the change is committed.

        A Redis error does not fail the request: the change is committed, and a
        500 would only make the client retry a write that happened. A copy that
        could not be deleted is served until its TTL ends.
        """
        key = self.key(item_id)
        try:
            await self.redis.delete(key)
        except RedisError as error:
            logger.warning(
                "cache invalidation of {key} failed",
                key=key,
                error_type=type(error).__name__,
                error=str(error),
            )


# --8<-- [end:json_cache]
