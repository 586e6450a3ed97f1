"""What goes wrong when a `table=True` entity is used as a request body or a
`response_model`.
"""

import secrets
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.webhook.models import WebhookRead
from app.db.message.model import Message
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook.table import WebhooksTable
from tests.principals import OWNER


async def post(app: FastAPI, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of `POST /` on a throwaway application."""
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/", json=body)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_table_class_as_request_body_accepts_anything_and_lets_the_client_set_id_and_deleted_at() -> (
    None
):
    app = FastAPI()

    @app.post("/")
    async def create(message: Message) -> dict[str, str]:
        return {
            "channel": repr(message.channel),
            "id": str(message.id),
            "deleted_at": str(message.deleted_at),
        }

    chosen_id, deleted_at = (
        "00000000-0000-4000-8000-000000000001",
        "2000-01-01T00:00:00Z",
    )
    received = await post(
        app,
        {
            "channel": "fax",
            "recipient": "a",
            "body": "b",
            "client_ref": "c",
            "id": chosen_id,
            "deleted_at": deleted_at,
        },
    )

    # not validated, not a Channel
    assert received == {
        "channel": "'fax'",
        "id": chosen_id,
        "deleted_at": deleted_at,
    }


async def test_a_table_class_as_response_model_exposes_every_column(
    session: AsyncSession,
) -> None:
    key = secrets.token_urlsafe(32)
    stored = await WebhooksTable(session, OWNER).insert_model(
        Webhook(
            target_url="https://hooks.example.com/a",
            event=WebhookEvent.MESSAGE_CREATED,
            secret=key,
        )
    )
    app = FastAPI()

    @app.get("/entity")
    async def entity() -> (
        Webhook
        # the mistake: the return annotation makes the row's class the response
        # model
    ):
        return stored

    @app.get("/read")
    async def read() -> WebhookRead:
        return WebhookRead.model_validate(stored)

    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        leaked, safe = (
            (await client.get("/entity")).json(),
            (await client.get("/read")).json(),
        )

    table = Webhook.__table__  # type: ignore[attr-defined]
    assert leaked.keys() == {column.name for column in table.columns}
    assert leaked["secret"] == key
    assert {"secret", "deleted_at"}.isdisjoint(safe)
    assert safe["id"] == leaked["id"]
