"""The rate limit: exact under concurrency, a 429 problem with `Retry-After` when exceeded."""

import asyncio

import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis

from app.api.problem_details import add_problem_handlers
from app.api.rate_limit import RateLimit
from app.core.config import Settings
from app.db.redis import get_redis


# --8<-- [start:test_rate_limit_concurrent]
async def test_concurrent_requests_let_exactly_the_limit_through(redis: Redis, settings: Settings) -> None:
    limited = FastAPI()
    add_problem_handlers(limited)
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get("/ping", dependencies=[Depends(RateLimit("ping", limit=lambda _: 10, window_seconds=60))])
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    async with AsyncClient(transport=ASGITransport(app=limited), base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/ping") for _ in range(25)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 10 + [429] * 15
    rejected = next(response for response in responses if response.status_code == 429)
    assert rejected.headers["content-type"] == "application/problem+json"
    assert 1 <= int(rejected.headers["retry-after"]) <= 60


# --8<-- [end:test_rate_limit_concurrent]


async def test_sending_messages_is_limited_per_client(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 2)
    body = {"channel": "sms", "recipient": "+15550100", "body": "Hi"}

    responses = [await client.post("/api/v1/messages", json=body | {"client_ref": f"r{i}"}) for i in range(3)]

    assert [response.status_code for response in responses] == [201, 201, 429]
    assert responses[-1].json()["detail"] == "at most 2 requests per 60 s; retry later"


async def test_requests_without_a_peer_address_share_one_bucket(redis: Redis, settings: Settings) -> None:
    limited = FastAPI()
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get("/ping", dependencies=[Depends(RateLimit("anon", limit=lambda _: 1, window_seconds=60))])
    async def ping() -> None:
        return None

    transport = ASGITransport(app=limited, client=None)  # type: ignore[arg-type]  # a Unix socket has no peer
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        await client.get("/ping")

    assert await redis.get("rate:anon:unknown") == "1"
