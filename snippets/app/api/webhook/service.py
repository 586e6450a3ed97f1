# --8<-- [start:webhook_service]
"""Business logic of webhook subscriptions: each public method is one
transaction.
"""

import secrets
import uuid
from typing import Annotated

from fastapi import Depends

from app.api.auth import OwnerDep
from app.api.webhook.models import (
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)
from app.base.base_table import Cursor
from app.core.errors import NotFoundError
from app.db.database import SessionDep
from app.db.webhook.model import Webhook
from app.db.webhook.table import WebhooksTable

SECRET_BYTES = 32
"""Random bytes in a signing secret: 256 bits, the size of an HMAC-SHA256
digest.
"""


class WebhookService:
    """Manages webhook subscriptions. It owns the transaction; the table only
    flushes.
    """

    def __init__(self, session: SessionDep, owner: OwnerDep) -> None:
        self.session = session
        # every query of it adds `owner = :owner`
        self.webhooks = WebhooksTable(session, owner)

    async def create(self, data: WebhookCreate) -> WebhookCreated:
        secret = secrets.token_urlsafe(SECRET_BYTES)
        async with self.session.begin():
            webhook = await self.webhooks.insert_model(
                Webhook(**data.model_dump(), secret=secret)
            )
        return WebhookCreated.model_validate(webhook)

    async def get(self, webhook_id: uuid.UUID) -> WebhookRead:
        async with self.session.begin():
            webhook = await self.webhooks.first_or_default(webhook_id)
        if webhook is None:
            raise NotFoundError(f"webhook {webhook_id} does not exist")
        return WebhookRead.model_validate(webhook)

    async def list(self, limit: int, cursor: Cursor | None) -> WebhookPage:
        async with self.session.begin():
            page = await self.webhooks.all(limit=limit, after=cursor)
        return WebhookPage(
            items=[WebhookRead.model_validate(row) for row in page.items],
            next_cursor=(
                page.next_cursor.encode() if page.next_cursor else None
            ),
        )

    async def update(
        self, webhook_id: uuid.UUID, data: WebhookUpdate
    ) -> WebhookRead:
        async with self.session.begin():
            webhook = await self.webhooks.update(webhook_id, data)
        if webhook is None:
            raise NotFoundError(f"webhook {webhook_id} does not exist")
        return WebhookRead.model_validate(webhook)

    async def delete(self, webhook_id: uuid.UUID) -> None:
        async with self.session.begin():
            deleted = await self.webhooks.soft_delete(webhook_id)
        if not deleted:
            raise NotFoundError(f"webhook {webhook_id} does not exist")


WebhookServiceDep = Annotated[WebhookService, Depends()]
# --8<-- [end:webhook_service]
