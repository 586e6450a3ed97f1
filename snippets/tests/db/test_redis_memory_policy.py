"""Why the broker's Redis runs `noeviction`: a cache policy evicts Celery's
queue like any key.
"""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from httpx import AsyncClient
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError


@pytest_asyncio.fixture
async def full_redis(redis: Redis) -> AsyncIterator[Redis]:
    """The test server with a task in Celery's queue and a memory limit 1 MB
    above what it uses.
    """
    # the list `send_task` pushes onto
    await redis.lpush("celery", '{"task": "deliver_webhook"}')
    used = int((await redis.info("memory"))["used_memory"])
    await redis.config_set("maxmemory", used + 1_000_000)
    try:
        yield redis
    finally:  # the server lives for the whole session
        await redis.config_set("maxmemory", 0)
        await redis.config_set("maxmemory-policy", "noeviction")


async def fill_with_cache_entries(redis: Redis) -> None:
    """10 MB of entries with a TTL, as the message cache writes them."""
    for batch in range(10):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(1000):
                pipe.set(f"message:{batch}:{i}", "x" * 1000, ex=300)
            await pipe.execute()


# --8<-- [start:test_memory_policy]
async def test_a_cache_policy_evicts_the_broker_queue(
    full_redis: Redis,
) -> None:
    await full_redis.config_set("maxmemory-policy", "allkeys-lru")

    await fill_with_cache_entries(full_redis)

    # the task is gone, and nothing said so
    assert await full_redis.exists("celery") == 0


async def test_noeviction_refuses_writes_and_keeps_the_queue(
    full_redis: Redis,
) -> None:
    await full_redis.config_set("maxmemory-policy", "noeviction")

    with pytest.raises(OutOfMemoryError):
        await fill_with_cache_entries(full_redis)

    # the writer gets an error; the task stays
    assert await full_redis.llen("celery") == 1


# --8<-- [end:test_memory_policy]


async def test_a_full_noeviction_redis_fails_the_rate_limited_posts(
    full_redis: Redis, client: AsyncClient
) -> None:
    await full_redis.config_set("maxmemory-policy", "noeviction")
    with pytest.raises(OutOfMemoryError):
        await fill_with_cache_entries(full_redis)

    body = {
        "channel": "sms",
        "recipient": "+15550100",
        "body": "Hi",
        "client_ref": "r1",
    }
    response = await client.post("/api/v1/messages", json=body)

    # The limiter's script is refused with OOM: the create is refused as with
    # Redis down.
    assert (response.status_code, response.headers["retry-after"]) == (
        503,
        "1",
    )


# --8<-- [start:test_volatile_lru]
async def test_volatile_lru_evicts_only_keys_with_a_ttl(
    full_redis: Redis,
) -> None:
    await full_redis.config_set("maxmemory-policy", "volatile-lru")

    # no error: older entries make room
    await fill_with_cache_entries(full_redis)

    # the queue has no TTL, so it is never a candidate
    assert await full_redis.llen("celery") == 1
    # an early cache entry was evicted
    assert await full_redis.exists("message:0:0") == 0


# --8<-- [end:test_volatile_lru]
