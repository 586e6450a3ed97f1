"""What goes wrong when a `table=True` entity is used as a request body or a `response_model`."""

from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.db.message.model import Channel, Message


async def post(app: FastAPI, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of `POST /` on a throwaway application."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post("/", json=body)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_table_class_as_request_body_accepts_anything_and_lets_the_client_set_id_and_deleted_at() -> None:
    app = FastAPI()

    @app.post("/")
    async def create(message: Message) -> dict[str, str]:
        return {"channel": repr(message.channel), "id": str(message.id), "deleted_at": str(message.deleted_at)}

    chosen_id, deleted_at = "00000000-0000-4000-8000-000000000001", "2000-01-01T00:00:00Z"
    received = await post(
        app,
        {"channel": "fax", "recipient": "a", "body": "b", "client_ref": "c", "id": chosen_id, "deleted_at": deleted_at},
    )

    assert received == {"channel": "'fax'", "id": chosen_id, "deleted_at": deleted_at}  # not validated, not a Channel


async def test_a_table_class_as_response_model_exposes_every_column() -> None:
    app = FastAPI()

    @app.post("/")
    async def create() -> Message:  # the return annotation makes `Message` the response model
        return Message(channel=Channel.SMS, recipient="+15550100", body="Hi", client_ref="c")

    answered = await post(app, {})

    assert {"deleted_at", "created_at", "updated_at"} <= answered.keys()
