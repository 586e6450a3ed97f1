"""The webhook API stores text fields as sent, less the whitespace around
them.
"""

import uuid

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.webhook.table import WebhooksTable
from tests.principals import OWNER

WEBHOOKS = "/api/v1/webhooks"


async def stored_description(
    session: AsyncSession, webhook_id: str
) -> str | None:
    stored = await WebhooksTable(session, OWNER).first_or_default(
        uuid.UUID(webhook_id)
    )
    assert stored is not None
    return stored.description


async def test_a_description_is_stored_without_surrounding_whitespace(
    client: AsyncClient, session: AsyncSession
) -> None:
    body = {
        "target_url": f"https://hooks.example.com/{uuid.uuid4().hex[:8]}",
        "event": "message.created",
    }

    created = await client.post(
        WEBHOOKS, json=body | {"description": "  Order service \n"}
    )
    assert created.status_code == 201
    assert (
        await stored_description(session, created.json()["id"])
        == "Order service"
    )

    updated = await client.patch(
        f"{WEBHOOKS}/{created.json()['id']}",
        json={"description": "\t Billing  "},
    )
    assert updated.status_code == 200
    assert await stored_description(session, created.json()["id"]) == "Billing"
