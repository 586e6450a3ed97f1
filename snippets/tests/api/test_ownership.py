"""Object level authorization: a principal reaches only its own messages and
webhooks, over every route.
"""

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.api.api import api_router
from app.api.messaging.points import router as messaging_router
from app.api.webhook.points import router as webhook_router
from app.db.webhook_delivery.model import WebhookDelivery
from tests.api.test_messaging import new_message
from tests.api.test_webhook import new_webhook
from tests.principals import OTHER_OWNER

# --8<-- [start:test_ownership_routes]
# Every route of both routers: a route added to either later is tested here
# unasked.
ROUTES = sorted(
    (method, f"{api_router.prefix}{route.path}")
    for router in (messaging_router, webhook_router)
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods or ()
)

NEW_OWNED_OBJECT: dict[str, Callable[[], object]] = {
    "/api/v1/messages": new_message,
    "/api/v1/webhooks": new_webhook,
}
"""Collection path -> a body that creates one object there. A new collection
fails until it is added.
"""

REQUEST_BODY: dict[tuple[str, str], Callable[[], object]] = {
    ("POST", "/api/v1/messages"): new_message,
    ("POST", "/api/v1/messages/batch"): lambda: [new_message()],
    ("PATCH", "/api/v1/messages/{message_id}"): lambda: {
        "body": "Changed by another principal"
    },
    ("POST", "/api/v1/webhooks"): new_webhook,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): lambda: {
        "description": "Changed by another principal"
    },
}
"""A valid body for each route that takes one: without it a route answers 422
and the test fails.
"""


def with_id(path: str, id_: object) -> str:
    return re.sub(r"\{\w+\}", str(id_), path)


def without(text: object, id_: object) -> object:
    """A problem body with the id it names blanked, so bodies about two ids can
    be compared.
    """
    if isinstance(text, dict):
        return {key: without(value, id_) for key, value in text.items()}
    return text.replace(str(id_), "<id>") if isinstance(text, str) else text


def test_every_route_behind_the_token_is_in_the_ownership_tests(
    app: FastAPI,
) -> None:
    """A new router under /api/v1 must join `ROUTES` (and `NEW_OWNED_OBJECT`)
    to be served at all.
    """
    served = sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(api_router.prefix)
        for method in operations
    )
    assert served == ROUTES


# --8<-- [end:test_ownership_routes]


# --8<-- [start:test_another_principal_gets_404]
@pytest.mark.parametrize(
    ("method", "path"),
    ROUTES,
    ids=[f"{method} {path}" for method, path in ROUTES],
)
async def test_another_principal_cannot_reach_an_object_and_gets_the_404_of_a_missing_one(
    client: AsyncClient, make_token: Callable[..., str], method: str, path: str
) -> None:
    collection = "/".join(path.split("/")[:4])  # /api/v1/messages
    mine = (
        await client.post(collection, json=NEW_OWNED_OBJECT[collection]())
    ).json()["id"]
    # read once: a cache now holds it
    before = (await client.get(f"{collection}/{mine}")).json()
    # any version
    as_other = {
        "Authorization": f"Bearer {make_token(sub=OTHER_OWNER)}",
        "If-Match": "*",
    }
    body = REQUEST_BODY.get((method, path), lambda: None)()

    # one object: the owner's id answers as an id that never existed
    if "{" in path:
        response = await client.request(
            method, with_id(path, mine), json=body, headers=as_other
        )
        missing = uuid.uuid4()
        never_existed = await client.request(
            method, with_id(path, missing), json=body, headers=as_other
        )
        assert (response.status_code, never_existed.status_code) == (404, 404)
        assert without(response.json(), mine) == without(
            never_existed.json(), missing
        )
    elif method == "GET":  # a list: only the caller's rows
        response = await client.get(path, headers=as_other)
        assert response.status_code == 200
        assert mine not in [item["id"] for item in response.json()["items"]]
    # a create: the new object is the caller's, out of the first principal's
    # reach
    else:
        response = await client.request(
            method, path, json=body, headers=as_other
        )
        assert response.status_code == 201
        created = response.json()
        for item in created if isinstance(created, list) else [created]:
            assert (
                await client.get(f"{collection}/{item['id']}")
            ).status_code == 404

    after = await client.get(f"{collection}/{mine}")
    # the owner's row is unchanged
    assert (after.status_code, after.json()) == (
        200,
        before,
    )


# --8<-- [end:test_another_principal_gets_404]


def ids_of(response: Response) -> list[str]:
    return [item["id"] for item in response.json()["items"]]


# --8<-- [start:test_cursor_of_another_principal]
@pytest.mark.parametrize("collection", sorted(NEW_OWNED_OBJECT))
async def test_a_cursor_from_another_principals_list_shows_none_of_its_rows(
    client: AsyncClient, make_token: Callable[..., str], collection: str
) -> None:
    for _ in range(3):
        assert (
            await client.post(collection, json=NEW_OWNED_OBJECT[collection]())
        ).status_code == 201
    first_page = await client.get(collection, params={"limit": 1})
    cursor = first_page.json()["next_cursor"]
    assert cursor is not None
    as_other = {"Authorization": f"Bearer {make_token(sub=OTHER_OWNER)}"}

    # A cursor is a position, not a permission: the owner filter still applies
    # after it.
    response = await client.get(
        collection, params={"cursor": cursor}, headers=as_other
    )

    assert response.status_code == 200
    assert ids_of(response) == []
    # the owner's next rows
    assert (
        len(ids_of(await client.get(collection, params={"cursor": cursor})))
        == 2
    )


# --8<-- [end:test_cursor_of_another_principal]


# --8<-- [start:test_webhook_of_another_principal]
async def test_a_message_is_delivered_only_to_its_owners_webhooks(
    client: AsyncClient, make_token: Callable[..., str], session: AsyncSession
) -> None:
    as_other = {"Authorization": f"Bearer {make_token(sub=OTHER_OWNER)}"}
    theirs = (
        await client.post(
            "/api/v1/webhooks", json=new_webhook(), headers=as_other
        )
    ).json()["id"]
    mine = (await client.post("/api/v1/webhooks", json=new_webhook())).json()[
        "id"
    ]

    assert (
        await client.post("/api/v1/messages", json=new_message())
    ).status_code == 201

    deliveries = select(
        col(WebhookDelivery.webhook_id), func.count()
    ).group_by(col(WebhookDelivery.webhook_id))
    counts = {
        str(webhook_id): count
        for webhook_id, count in (await session.execute(deliveries)).tuples()
    }
    assert counts.get(mine) == 1
    # another principal's subscription never hears of this message
    assert theirs not in counts


# --8<-- [end:test_webhook_of_another_principal]


async def test_a_client_ref_is_unique_across_owners_so_a_409_tells_another_that_it_is_taken(
    client: AsyncClient, make_token: Callable[..., str]
) -> None:
    """The gap left open: the unique index on `client_ref` spans every owner,
    not one.
    """
    body = new_message()
    assert (
        await client.post("/api/v1/messages", json=body)
    ).status_code == 201
    as_other = {"Authorization": f"Bearer {make_token(sub=OTHER_OWNER)}"}

    response = await client.post(
        "/api/v1/messages", json=body, headers=as_other
    )

    assert response.status_code == 409
