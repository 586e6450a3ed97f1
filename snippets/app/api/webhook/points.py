# --8<-- [start:webhook_points]
"""HTTP endpoints of webhook subscriptions: parse, delegate to the service,
shape the response.
"""

import uuid

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.auth import FORBIDDEN_RESPONSES, RequireScope
from app.api.pagination import CursorQuery, LimitQuery
from app.api.problem_details import problem_responses
from app.api.webhook.models import (
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)
from app.api.webhook.service import WebhookServiceDep
from app.base.base_table import DEFAULT_PAGE_SIZE

# Every route takes input (422) and queries PostgreSQL (503: a statement or
# lock timeout, `app/api/database_errors.py`).
router = APIRouter(
    prefix="/webhooks", tags=["webhook"], responses=problem_responses(422, 503)
)

CAN_SUBSCRIBE = Depends(RequireScope("webhooks:write"))
"""A subscription pushes data to another host long after the token that made it
expired: a write.
"""


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CAN_SUBSCRIBE],
    responses=problem_responses(400, 409, 413) | FORBIDDEN_RESPONSES,
)
async def create_webhook(
    data: WebhookCreate,
    service: WebhookServiceDep,
    request: Request,
    response: Response,
) -> WebhookCreated:
    webhook = await service.create(data)
    response.headers["Location"] = request.app.url_path_for(
        "get_webhook", webhook_id=str(webhook.id)
    )
    return webhook


@router.get("/{webhook_id}", responses=problem_responses(404))
async def get_webhook(
    webhook_id: uuid.UUID, service: WebhookServiceDep
) -> WebhookRead:
    return await service.get(webhook_id)


@router.get("")
async def list_webhooks(
    service: WebhookServiceDep,
    cursor: CursorQuery,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> WebhookPage:
    return await service.list(limit, cursor)


@router.patch(
    "/{webhook_id}",
    dependencies=[CAN_SUBSCRIBE],
    responses=problem_responses(400, 404, 409, 413) | FORBIDDEN_RESPONSES,
)
async def update_webhook(
    webhook_id: uuid.UUID, data: WebhookUpdate, service: WebhookServiceDep
) -> WebhookRead:
    return await service.update(webhook_id, data)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CAN_SUBSCRIBE],
    responses=problem_responses(404) | FORBIDDEN_RESPONSES,
)
async def delete_webhook(
    webhook_id: uuid.UUID, service: WebhookServiceDep
) -> None:
    await service.delete(webhook_id)


# --8<-- [end:webhook_points]
