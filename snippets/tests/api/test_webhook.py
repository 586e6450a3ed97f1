# --8<-- [start:webhook_api_test_setup]
"""The webhook API over HTTP, against the real database."""

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.webhook.models import TARGET_URL_MAX_LENGTH
from app.db.webhook.table import WebhooksTable
from tests.principals import OWNER

WEBHOOKS = "/api/v1/webhooks"


def new_webhook(**overrides: object) -> dict[str, object]:
    """A valid request body; each call gets its own target URL, so none
    collide.
    """
    return {
        "target_url": f"https://hooks.example.com/{uuid.uuid4().hex[:8]}",
        "event": "message.created",
        "description": "Order service",
    } | overrides


# --8<-- [end:webhook_api_test_setup]


# --8<-- [start:test_webhook_create]
async def test_create_returns_201_with_location_and_the_secret_once(
    client: AsyncClient,
) -> None:
    response = await client.post(
        WEBHOOKS, json=new_webhook(target_url="HTTPS://Hooks.Example.com")
    )

    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"{WEBHOOKS}/{created['id']}"
    # normalised by HttpUrl
    assert created["target_url"] == "https://hooks.example.com/"
    assert created["is_active"] is True
    assert len(created["secret"]) >= 43  # 32 random bytes, base64url-encoded
    fetched = (await client.get(response.headers["location"])).json()
    assert "secret" not in fetched
    assert fetched == {
        key: value for key, value in created.items() if key != "secret"
    }


async def test_a_nul_character_in_the_description_is_a_422_not_a_500(
    client: AsyncClient,
) -> None:
    response = await client.post(
        WEBHOOKS, json=new_webhook(description="a\u0000b")
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "body.description"
    ]


async def test_a_subscription_can_be_created_paused(
    client: AsyncClient,
) -> None:
    response = await client.post(WEBHOOKS, json=new_webhook(is_active=False))

    assert response.status_code == 201
    assert response.json()["is_active"] is False
    assert (await client.get(response.headers["location"])).json()[
        "is_active"
    ] is False


async def test_the_secret_is_stored_and_never_listed(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = (await client.post(WEBHOOKS, json=new_webhook())).json()

    page = (await client.get(WEBHOOKS)).json()

    assert [set(item) for item in page["items"]] == [set(created) - {"secret"}]
    stored = await WebhooksTable(session, OWNER).first_or_default(
        uuid.UUID(created["id"])
    )
    assert stored is not None
    assert stored.secret == created["secret"]  # delivery will sign with it
    assert created["secret"] not in repr(stored)


# --8<-- [end:test_webhook_create]


# --8<-- [start:test_webhook_conflicts]
async def test_duplicate_url_and_event_is_a_409_problem(
    client: AsyncClient,
) -> None:
    body = new_webhook(target_url="https://hooks.example.com/orders")
    assert (await client.post(WEBHOOKS, json=body)).status_code == 201

    response = await client.post(WEBHOOKS, json=body)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Resource conflict",
        "status": 409,
        "detail": (
            "Another resource already has the same event and target_url."
        ),
        "instance": WEBHOOKS,
        "errors": [
            {"field": "event", "message": "already taken"},
            {"field": "target_url", "message": "already taken"},
        ],
    }


async def test_same_url_may_subscribe_to_another_event(
    client: AsyncClient,
) -> None:
    url = "https://hooks.example.com/orders"
    assert (
        await client.post(WEBHOOKS, json=new_webhook(target_url=url))
    ).status_code == 201

    response = await client.post(
        WEBHOOKS, json=new_webhook(target_url=url, event="message.deleted")
    )

    assert response.status_code == 201


async def test_a_deleted_subscription_frees_its_url_and_event(
    client: AsyncClient,
) -> None:
    body = new_webhook()
    first = (await client.post(WEBHOOKS, json=body)).json()
    assert (
        await client.delete(f"{WEBHOOKS}/{first['id']}")
    ).status_code == 204

    again = await client.post(WEBHOOKS, json=body)

    assert again.status_code == 201
    # a new subscription, a new secret
    assert again.json()["secret"] != first["secret"]


# --8<-- [end:test_webhook_conflicts]


# --8<-- [start:test_webhook_bad_input]
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_url": "http://hooks.example.com/x"}, "body.target_url"),
        ({"target_url": "not a url"}, "body.target_url"),
        (
            {"target_url": f"https://example.com/{'a' * 2048}"},
            "body.target_url",
        ),
        ({"event": "message.exploded"}, "body.event"),
        ({"description": ""}, "body.description"),
        ({"secret": "chosen-by-the-client"}, "body.secret"),
    ],
)
async def test_create_rejects_invalid_input_naming_the_field(
    client: AsyncClient, overrides: dict[str, object], field: str
) -> None:
    response = await client.post(WEBHOOKS, json=new_webhook(**overrides))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_get_unknown_id_is_404(client: AsyncClient) -> None:
    missing = uuid.uuid4()

    response = await client.get(f"{WEBHOOKS}/{missing}")

    assert response.status_code == 404
    assert response.json()["detail"] == f"webhook {missing} does not exist"


async def test_get_malformed_id_is_422(client: AsyncClient) -> None:
    response = await client.get(f"{WEBHOOKS}/not-a-uuid")

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "path.webhook_id"
    ]


@pytest.mark.parametrize("limit", [0, 101])
async def test_list_limit_is_capped(client: AsyncClient, limit: int) -> None:
    response = await client.get(WEBHOOKS, params={"limit": limit})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "query.limit"
    ]


# --8<-- [end:test_webhook_bad_input]


# --8<-- [start:test_webhook_list]
async def test_list_walks_every_page_and_leaves_out_deleted(
    client: AsyncClient,
) -> None:
    created = [
        (await client.post(WEBHOOKS, json=new_webhook())).json()["id"]
        for _ in range(3)
    ]
    await client.delete(f"{WEBHOOKS}/{created[1]}")

    first = (await client.get(WEBHOOKS, params={"limit": 1})).json()
    second = (
        await client.get(
            WEBHOOKS, params={"limit": 1, "cursor": first["next_cursor"]}
        )
    ).json()

    # Rows made in one test transaction share created_at, so the id decides
    # their order: compare sets.
    assert {item["id"] for item in first["items"] + second["items"]} == {
        created[0],
        created[2],
    }
    assert len(first["items"]) == len(second["items"]) == 1
    assert second["next_cursor"] is None


# --8<-- [end:test_webhook_list]


# --8<-- [start:test_webhook_update]
async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    created = (await client.post(WEBHOOKS, json=new_webhook())).json()

    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}",
        json={"is_active": False, "description": None},
    )

    assert response.status_code == 200
    updated = response.json()
    # a null description clears it
    assert (updated["is_active"], updated["description"]) == (
        False,
        None,
    )
    assert (updated["target_url"], updated["event"]) == (
        created["target_url"],
        created["event"],
    )
    assert updated["updated_at"] > created["updated_at"]
    assert "secret" not in updated


@pytest.mark.parametrize("field", ["target_url", "event", "is_active"])
async def test_patch_rejects_null_for_a_required_field(
    client: AsyncClient, field: str
) -> None:
    created = (await client.post(WEBHOOKS, json=new_webhook())).json()

    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}", json={field: None}
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        f"body.{field}"
    ]


async def test_patch_of_soft_deleted_is_404(client: AsyncClient) -> None:
    created = (await client.post(WEBHOOKS, json=new_webhook())).json()
    await client.delete(f"{WEBHOOKS}/{created['id']}")

    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}", json={"is_active": False}
    )

    assert response.status_code == 404


async def test_patch_to_a_taken_url_and_event_is_409(
    client: AsyncClient,
) -> None:
    taken = (await client.post(WEBHOOKS, json=new_webhook())).json()
    other = (await client.post(WEBHOOKS, json=new_webhook())).json()

    response = await client.patch(
        f"{WEBHOOKS}/{other['id']}", json={"target_url": taken["target_url"]}
    )

    assert response.status_code == 409
    # a URL can carry a token; a 409 never echoes it
    assert taken["target_url"] not in response.text
    assert {error["field"] for error in response.json()["errors"]} == {
        "event",
        "target_url",
    }


# --8<-- [end:test_webhook_update]


# --8<-- [start:test_webhook_delete]
async def test_delete_is_soft_and_not_repeatable(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = (await client.post(WEBHOOKS, json=new_webhook())).json()

    first = await client.delete(f"{WEBHOOKS}/{created['id']}")
    second = await client.delete(f"{WEBHOOKS}/{created['id']}")

    assert (first.status_code, first.content) == (204, b"")
    assert second.status_code == 404
    assert (await client.get(f"{WEBHOOKS}/{created['id']}")).status_code == 404
    row = await WebhooksTable(session, OWNER).first_or_default(
        uuid.UUID(created["id"]), include_deleted=True
    )
    assert row is not None
    assert row.deleted_at is not None


# --8<-- [end:test_webhook_delete]


# --8<-- [start:test_webhook_input_edges]
@pytest.mark.parametrize(("length", "status"), [(2048, 201), (2049, 422)])
async def test_target_url_is_at_most_2048_characters(
    client: AsyncClient, length: int, status: int
) -> None:
    prefix = f"https://hooks.example.com/{uuid.uuid4().hex[:8]}/"
    response = await client.post(
        WEBHOOKS,
        json=new_webhook(target_url=prefix + "a" * (length - len(prefix))),
    )

    assert response.status_code == status


def url_stored_as(length: int) -> str:
    """A new URL that the API stores with `length` characters: each "é" becomes
    "%C3%A9", six characters.
    """
    prefix = f"https://hooks.example.com/{uuid.uuid4().hex[:8]}/"
    escaped, plain = divmod(length - len(prefix), 6)
    return prefix + "é" * escaped + "a" * plain


@pytest.mark.parametrize(("length", "status"), [(2048, 201), (2049, 422)])
async def test_the_url_limit_counts_the_stored_percent_encoded_url(
    client: AsyncClient, session: AsyncSession, length: int, status: int
) -> None:
    created = await client.post(
        WEBHOOKS, json=new_webhook(target_url=url_stored_as(length))
    )
    existing = (await client.post(WEBHOOKS, json=new_webhook())).json()
    patched = await client.patch(
        f"{WEBHOOKS}/{existing['id']}",
        json={"target_url": url_stored_as(length)},
    )

    assert (created.status_code, patched.status_code) == (
        (201, 200) if status == 201 else (422, 422)
    )
    for response in (created, patched):
        if status == 422:
            assert [error["field"] for error in response.json()["errors"]] == [
                "body.target_url"
            ]
        else:
            stored = await WebhooksTable(session, OWNER).first_or_default(
                uuid.UUID(response.json()["id"])
            )
            assert stored is not None
            assert len(stored.target_url) == length


async def test_patch_rejects_fields_it_does_not_know(
    client: AsyncClient,
) -> None:
    created = (await client.post(WEBHOOKS, json=new_webhook())).json()

    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}", json={"secret": "chosen-by-the-client"}
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "body.secret"
    ]


# --8<-- [end:test_webhook_input_edges]


async def test_the_published_schema_states_the_url_limit_the_api_enforces(
    client: AsyncClient,
) -> None:
    """A client generated from /openapi.json must refuse what the API refuses,
    not allow HttpUrl's own 2083.
    """
    schemas = (await client.get("/openapi.json")).json()["components"][
        "schemas"
    ]
    created = schemas["WebhookCreate"]["properties"]["target_url"]
    # no `null` offered: `partial_update_schema`
    updated = schemas["WebhookUpdate"]["properties"]["target_url"]

    assert [created["maxLength"], updated["maxLength"]] == [
        TARGET_URL_MAX_LENGTH
    ] * 2
