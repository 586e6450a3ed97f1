"""HTTP endpoints of messaging: parse, delegate to the service, shape the
response.
"""

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import Field

from app.api.auth import FORBIDDEN_RESPONSES, RequireScope
from app.api.idempotency import IdempotencyKeyDep
from app.api.messaging.models import (
    MessageCreate,
    MessagePage,
    MessageRead,
    MessageUpdate,
)
from app.api.messaging.service import MessagingServiceDep
from app.api.pagination import CursorQuery, LimitQuery
from app.api.preconditions import ETAG_HEADER, IfMatchVersions, etag
from app.api.problem_details import problem_responses
from app.api.rate_limit import RATE_LIMITED_RESPONSES, RateLimit
from app.base.base_table import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.db.redis import RedisDep

# --8<-- [start:messaging_router]
# Every route takes input (422) and queries PostgreSQL (503: a statement or
# lock timeout, `app/api/database_errors.py`).
router = APIRouter(
    prefix="/messages",
    tags=["messaging"],
    responses=problem_responses(422, 503),
)
# --8<-- [end:messaging_router]

# --8<-- [start:write_scope]
CAN_WRITE = Depends(RequireScope("messages:write"))
"""Reading needs any valid token (the router checks it); changing messages
needs this scope too.
"""
# --8<-- [end:write_scope]


# --8<-- [start:messaging_points]
limit_sending = RateLimit(
    "send-message",
    limit=lambda settings: settings.message_rate_limit_per_minute,
    window_seconds=60,
    unit="messages",
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CAN_WRITE, Depends(limit_sending)],
    responses=problem_responses(400, 409, 413)
    | FORBIDDEN_RESPONSES
    | RATE_LIMITED_RESPONSES,
)
async def create_message(
    data: MessageCreate,
    service: MessagingServiceDep,
    request: Request,
    response: Response,
    idempotency: IdempotencyKeyDep,
) -> MessageRead:
    message = await service.create(data, idempotency)
    response.headers["Location"] = request.app.url_path_for(
        "get_message", message_id=str(message.id)
    )
    return message


# --8<-- [start:batch_endpoint]
@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CAN_WRITE],
    responses=problem_responses(400, 409, 413)
    | FORBIDDEN_RESPONSES
    | RATE_LIMITED_RESPONSES,
)
async def create_messages(
    items: Annotated[
        list[MessageCreate], Field(min_length=1, max_length=MAX_PAGE_SIZE)
    ],
    service: MessagingServiceDep,
    request: Request,
    redis: RedisDep,
    idempotency: IdempotencyKeyDep,
) -> list[MessageRead]:
    # A batch of N is N messages, charged once the service knows it is not a
    # retry to replay.
    return await service.create_batch(
        items,
        idempotency,
        charge=partial(limit_sending.spend, request, redis, len(items)),
    )


# --8<-- [end:batch_endpoint]


# --8<-- [start:get_with_etag]
@router.get(
    "/{message_id}",
    responses=problem_responses(404) | {200: {"headers": ETAG_HEADER}},
)
async def get_message(
    message_id: uuid.UUID, service: MessagingServiceDep, response: Response
) -> MessageRead:
    message = await service.get(message_id)
    response.headers["ETag"] = etag(message.version)
    return message


# --8<-- [end:get_with_etag]


# --8<-- [start:list_endpoint]
@router.get("")
async def list_messages(
    service: MessagingServiceDep,
    cursor: CursorQuery,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> MessagePage:
    return await service.list(limit, cursor)


# --8<-- [end:list_endpoint]


# --8<-- [start:patch_with_if_match]
@router.patch(
    "/{message_id}",
    dependencies=[CAN_WRITE],
    responses=problem_responses(400, 404, 412, 413, 428, 503)
    | FORBIDDEN_RESPONSES
    | {200: {"headers": ETAG_HEADER}},
)
async def update_message(
    message_id: uuid.UUID,
    data: MessageUpdate,
    versions: IfMatchVersions,
    service: MessagingServiceDep,
    response: Response,
) -> MessageRead:
    message = await service.update(message_id, data, versions=versions)
    response.headers["ETag"] = etag(message.version)
    return message


# --8<-- [end:patch_with_if_match]


@router.delete(
    "/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CAN_WRITE],
    responses=problem_responses(404) | FORBIDDEN_RESPONSES,
)
async def delete_message(
    message_id: uuid.UUID, service: MessagingServiceDep
) -> None:
    await service.delete(message_id)


# --8<-- [end:messaging_points]
