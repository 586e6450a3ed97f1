"""The rate limit: exact under concurrency, a 429 problem with `Retry-After`
when exceeded.
"""

import asyncio

import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api.problem_details import add_problem_handlers
from app.api.rate_limit import RateLimit
from app.base.base_table import MAX_PAGE_SIZE
from app.core.config import Settings
from app.db.redis import get_redis


# --8<-- [start:test_rate_limit_concurrent]
async def test_concurrent_requests_let_exactly_the_limit_through(
    redis: Redis, settings: Settings
) -> None:
    limited = FastAPI()
    add_problem_handlers(limited)
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get(
        "/ping",
        dependencies=[
            Depends(RateLimit("ping", limit=lambda _: 10, window_seconds=60))
        ],
    )
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    async with AsyncClient(
        transport=ASGITransport(app=limited), base_url="http://test"
    ) as client:
        responses = await asyncio.gather(
            *(client.get("/ping") for _ in range(25))
        )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 10 + [429] * 15
    rejected = next(
        response for response in responses if response.status_code == 429
    )
    assert rejected.headers["content-type"] == "application/problem+json"
    assert 1 <= int(rejected.headers["retry-after"]) <= 60


# --8<-- [end:test_rate_limit_concurrent]


async def test_sending_messages_is_limited_per_client(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 2)
    body = {"channel": "sms", "recipient": "+15550100", "body": "Hi"}

    responses = [
        await client.post(
            "/api/v1/messages", json=body | {"client_ref": f"r{i}"}
        )
        for i in range(3)
    ]

    assert [response.status_code for response in responses] == [201, 201, 429]
    assert (
        responses[-1].json()["detail"]
        == "at most 2 messages per 60 s; retry later"
    )


# --8<-- [start:test_batch_costs_its_size]
async def test_a_batch_costs_one_unit_per_message(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 5)

    def batch(size: int, prefix: str) -> list[dict[str, str]]:
        return [
            {
                "channel": "sms",
                "recipient": "+15550100",
                "body": "Hi",
                "client_ref": f"{prefix}{i}",
            }
            for i in range(size)
        ]

    statuses = [
        # 3 of 5 used
        (
            await client.post("/api/v1/messages/batch", json=batch(3, "a"))
        ).status_code,
        # 6 > 5: refused whole
        (
            await client.post("/api/v1/messages/batch", json=batch(3, "b"))
        ).status_code,
        # the refusal cost nothing
        (
            await client.post("/api/v1/messages/batch", json=batch(2, "c"))
        ).status_code,
        # 6 > 5
        (
            await client.post("/api/v1/messages", json=batch(1, "d")[0])
        ).status_code,
    ]

    assert statuses == [201, 429, 201, 429]


# --8<-- [end:test_batch_costs_its_size]


async def test_a_batch_larger_than_the_limit_is_refused_for_good(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 2)
    items = [
        {
            "channel": "sms",
            "recipient": "+15550100",
            "body": "Hi",
            "client_ref": f"r{i}",
        }
        for i in range(3)
    ]

    response = await client.post("/api/v1/messages/batch", json=items)

    assert response.status_code == 422  # not 429: waiting would never help
    assert (
        response.json()["detail"]
        == "at most 2 messages per 60 s; send smaller batches"
    )
    assert "retry-after" not in response.headers


async def test_requests_without_a_peer_address_share_one_bucket(
    redis: Redis, settings: Settings
) -> None:
    limited = FastAPI()
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get(
        "/ping",
        dependencies=[
            Depends(RateLimit("anon", limit=lambda _: 1, window_seconds=60))
        ],
    )
    async def ping() -> None:
        return None

    # A Unix socket has no peer.
    transport = ASGITransport(
        app=limited,
        client=None,  # type: ignore[arg-type]
    )
    async with AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        await client.get("/ping")

    assert await redis.get("rate:anon:unknown") == "1"


async def test_every_counter_expires_even_one_left_without_a_ttl(
    redis: Redis, settings: Settings
) -> None:
    limited = FastAPI()
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get(
        "/ping",
        dependencies=[
            Depends(RateLimit("ttl", limit=lambda _: 10, window_seconds=60))
        ],
    )
    async def ping() -> None:
        return None

    # as a crash between INCR and EXPIRE would leave it
    await redis.set("rate:ttl:127.0.0.1", 3)
    transport = ASGITransport(app=limited, client=("127.0.0.1", 40000))
    async with AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        await client.get("/ping")

    assert await redis.get("rate:ttl:127.0.0.1") == "4"
    assert 0 < await redis.pttl("rate:ttl:127.0.0.1") <= 60_000


async def test_a_counter_at_the_limit_left_without_a_ttl_still_expires(
    redis: Redis, settings: Settings
) -> None:
    limited = FastAPI()
    add_problem_handlers(limited)
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get(
        "/ping",
        dependencies=[
            Depends(RateLimit("full", limit=lambda _: 10, window_seconds=60))
        ],
    )
    async def ping() -> None:
        return None

    # at the limit and without a TTL: refused for good if not repaired
    await redis.set("rate:full:127.0.0.1", 10)
    transport = ASGITransport(app=limited, client=("127.0.0.1", 40000))
    async with AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        response = await client.get("/ping")

    assert response.status_code == 429
    # the refused request counted nothing
    assert await redis.get("rate:full:127.0.0.1") == "10"
    assert 0 < await redis.pttl("rate:full:127.0.0.1") <= 60_000
    assert 50 <= int(response.headers["retry-after"]) <= 60


async def test_a_full_batch_fits_the_default_limit(
    client: AsyncClient,
) -> None:
    items = [
        {
            "channel": "sms",
            "recipient": "+15550100",
            "body": "Hi",
            "client_ref": f"r{i}",
        }
        for i in range(MAX_PAGE_SIZE)
    ]

    response = await client.post("/api/v1/messages/batch", json=items)

    # the batch maximum OpenAPI states is accepted with the default settings
    assert response.status_code == 201


@pytest.mark.parametrize(
    "path", ["/api/v1/messages", "/api/v1/messages/batch"]
)
async def test_openapi_documents_429_with_retry_after_on_the_limited_routes(
    client: AsyncClient, path: str
) -> None:
    openapi = (await client.get("/openapi.json")).json()

    refused = openapi["paths"][path]["post"]["responses"]["429"]
    assert "application/problem+json" in refused["content"]
    assert refused["headers"]["Retry-After"]["schema"] == {"type": "integer"}


async def test_an_invalid_batch_costs_nothing_and_a_conflicting_one_costs_its_size(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 5)
    valid = {"channel": "sms", "recipient": "+15550100", "body": "Hi"}
    invalid_batch = [
        valid | {"client_ref": f"i{i}", "channel": "pigeon"} for i in range(3)
    ]
    conflicting_batch = [valid | {"client_ref": "same"} for _ in range(3)]

    statuses = [
        # refused before spending
        (
            await client.post("/api/v1/messages/batch", json=invalid_batch)
        ).status_code,
        # 3 of 5 spent
        (
            await client.post("/api/v1/messages/batch", json=conflicting_batch)
        ).status_code,
        (
            await client.post(
                "/api/v1/messages/batch",
                json=[valid | {"client_ref": f"n{i}"} for i in range(3)],
            )
        ).status_code,
    ]

    # the rolled-back batch was charged, the invalid one was not
    assert statuses == [
        422,
        409,
        429,
    ]


async def test_an_invalid_single_message_is_charged_before_validation(
    client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 2)
    valid = {
        "channel": "sms",
        "recipient": "+15550100",
        "body": "Hi",
        "client_ref": "single",
    }

    statuses = [
        (
            await client.post(
                "/api/v1/messages", json=valid | {"channel": "pigeon"}
            )
        ).status_code
        for _ in "ab"
    ]
    statuses.append(
        (await client.post("/api/v1/messages", json=valid)).status_code
    )

    # the dependency spent a unit on each invalid request
    assert statuses == [
        422,
        422,
        429,
    ]


async def test_with_redis_down_a_limited_request_answers_503_with_retry_after() -> (
    None
):
    limited = FastAPI()
    add_problem_handlers(limited)
    down = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limited.dependency_overrides[get_redis] = lambda: down

    @limited.get(
        "/ping",
        dependencies=[
            Depends(RateLimit("ping", limit=lambda _: 10, window_seconds=60))
        ],
    )
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    async with AsyncClient(
        transport=ASGITransport(app=limited, raise_app_exceptions=False),
        base_url="http://t",
    ) as c:
        response = await c.get("/ping")
    await down.aclose()

    # Not a 500: the request did nothing, and the client may retry it once
    # Redis is back.
    assert (response.status_code, response.headers["retry-after"]) == (
        503,
        "1",
    )
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("trusted", "statuses"),
    [("*", [200, 200, 200]), ("10.244.0.0/16", [200, 429, 429])],
)
async def test_a_limit_keyed_on_a_trusted_x_forwarded_for_is_bypassed_by_a_new_value(
    redis: Redis, settings: Settings, trusted: str, statuses: list[int]
) -> None:
    """Trusted from anyone, each made-up address gets a fresh bucket; trusted
    from the proxies only, it does not.
    """
    limited = FastAPI()
    add_problem_handlers(limited)
    limited.dependency_overrides[get_redis] = lambda: redis

    @limited.get(
        "/ping",
        dependencies=[
            Depends(RateLimit("spoof", limit=lambda _: 1, window_seconds=60))
        ],
    )
    async def ping() -> None:
        return None

    # What --proxy-headers adds; uvicorn and Starlette spell the same ASGI
    # types differently.
    behind_uvicorn = ProxyHeadersMiddleware(
        limited,  # type: ignore[arg-type]
        trusted_hosts=trusted,
    )
    transport = ASGITransport(
        app=behind_uvicorn,  # type: ignore[arg-type]
        client=("198.51.100.20", 40000),
    )
    async with AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        responses = [
            await client.get(
                "/ping", headers={"X-Forwarded-For": f"203.0.113.{i}"}
            )
            for i in range(3)
        ]

    assert [response.status_code for response in responses] == statuses
