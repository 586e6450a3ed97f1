"""`JsonCache` against the real test Redis: versioned keys, and a cache that
fails without failing reads.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from pydantic import BaseModel
from redis.asyncio import Redis

from app.base.json_cache import JsonCache

ITEM_ID = uuid.uuid4()


class MessageBefore(BaseModel):
    """The shape an earlier release cached."""

    id: uuid.UUID
    body: str


class MessageAfter(MessageBefore):
    """The next release adds a field with a default: an old entry would still
    validate, wrongly.
    """

    priority: int = 0


async def load_after() -> MessageAfter:
    return MessageAfter(id=ITEM_ID, body="Hello", priority=5)


# --8<-- [start:test_versioned_keys]
async def test_a_new_model_shape_never_reads_old_entries(redis: Redis) -> None:
    before = JsonCache(redis, MessageBefore, prefix="message", ttl_seconds=60)
    after = JsonCache(redis, MessageAfter, prefix="message", ttl_seconds=60)
    # cached by the earlier release
    await before.get_or_load(ITEM_ID, lambda: load_before())

    item = await after.get_or_load(ITEM_ID, load_after)

    # loaded, not the old entry read with the default filled in
    assert item.priority == 5
    assert before.key(ITEM_ID) != after.key(ITEM_ID)
    assert after.key(ITEM_ID) == JsonCache(
        redis, MessageAfter, prefix="message", ttl_seconds=1
    ).key(ITEM_ID)
    assert after.key(ITEM_ID).startswith("message:")


# --8<-- [end:test_versioned_keys]


async def load_before() -> MessageBefore:
    return MessageBefore(id=ITEM_ID, body="Hello")


@pytest_asyncio.fixture
async def read_only_redis(
    redis: Redis, redis_url: str
) -> AsyncIterator[Redis]:
    """A client signed in as a Redis user that may only GET (and SELECT the
    test's database): every write is refused with NOPERM.

    A user of its own, not a server-wide setting, so tests sharing the server
    are not affected."""
    user = f"reader-{uuid.uuid4().hex[:8]}"
    await redis.acl_setuser(
        user,
        enabled=True,
        nopass=True,
        keys=["*"],
        commands=["+get", "+select"],
    )
    client = Redis.from_url(redis_url, username=user, decode_responses=True)
    yield client
    await client.aclose()
    await redis.acl_deluser(user)


async def test_a_cache_that_refuses_writes_still_answers(
    read_only_redis: Redis, redis: Redis, logged_warnings: list[dict[str, Any]]
) -> None:
    cache = JsonCache(
        read_only_redis, MessageAfter, prefix="message", ttl_seconds=60
    )

    assert await cache.get_or_load(ITEM_ID, load_after) == await load_after()
    assert await redis.dbsize() == 0  # nothing was stored
    # The read succeeded and the write was refused, not a read that failed
    # before any write.
    [record] = logged_warnings
    assert record["message"] == f"cache write of {cache.key(ITEM_ID)} failed"
    assert record["extra"]["error_type"] == "NoPermissionError"
    # Redis's own words, not only a class name
    assert "'set' command" in record["extra"]["error"]
