"""Cache-aside for Pydantic models in Redis."""

from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from redis.asyncio import Redis


# --8<-- [start:json_cache]
class JsonCache[ItemT: BaseModel]:
    """Read through Redis, fall back to a loader, store the result as JSON with a TTL.

    The database stays the source of truth: writers change it first and call `invalidate`
    after their transaction commits; the TTL bounds how long any missed invalidation lasts.
    """

    def __init__(self, redis: Redis, model: type[ItemT], *, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.model = model
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    def key(self, item_id: object) -> str:
        return f"{self.prefix}:{item_id}"

    async def get_or_load(self, item_id: object, load: Callable[[], Awaitable[ItemT]]) -> ItemT:
        """Return the cached item, or load it, cache it and return it. Errors are not cached."""
        cached = await self.redis.get(self.key(item_id))
        if cached is not None:
            return self.model.model_validate_json(cached)
        item = await load()
        await self.redis.set(self.key(item_id), item.model_dump_json(), ex=self.ttl_seconds)
        return item

    async def invalidate(self, item_id: object) -> None:
        """Forget the item; call only after the change is committed."""
        await self.redis.delete(self.key(item_id))


# --8<-- [end:json_cache]
