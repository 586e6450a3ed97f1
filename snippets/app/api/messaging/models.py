"""Request and response bodies of the messaging API."""

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.api.openapi import partial_update_schema
from app.base.base_entity import TEXT_NOT_BLANK
from app.db.message.model import Channel

# --8<-- [start:message_create_model]
# `TEXT_NOT_BLANK`: PostgreSQL `text` cannot store U+0000, so a NUL is a 422
# here, not a 500 at the INSERT; whitespace alone is a 422 too. Stripped once
# the checks the document publishes have passed.
Recipient = Annotated[
    str,
    Field(min_length=1, max_length=320, pattern=TEXT_NOT_BLANK),
    AfterValidator(str.strip),
]
Body = Annotated[
    str,
    Field(min_length=1, max_length=4000, pattern=TEXT_NOT_BLANK),
    AfterValidator(str.strip),
]


class MessageCreate(BaseModel):
    """What a client sends to create a message."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    recipient: Recipient
    body: Body
    client_ref: Annotated[
        str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    ]


# --8<-- [end:message_create_model]


# --8<-- [start:message_update_model]


class MessageUpdate(BaseModel):
    """A partial update: only the fields sent are changed."""

    # The document states what the validators below refuse, so a generated
    # client refuses it too.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=partial_update_schema(
            "recipient", "body", at_least_one=True
        ),
    )

    recipient: Recipient | None = None
    body: Body | None = None

    @field_validator("recipient", "body")
    @classmethod
    def reject_null(cls, value: str | None) -> str | None:
        """Omitting a field keeps it; an explicit `null` would erase a required
        value.
        """
        if value is None:
            raise ValueError(
                "cannot be null; omit the field to keep its value"
            )
        return value

    @model_validator(mode="after")
    def reject_empty(self) -> Self:
        """A rule about the whole body runs after every field passed its own
        checks.
        """
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


# --8<-- [end:message_update_model]


# --8<-- [start:message_response_models]
class MessageRead(BaseModel):
    """A message as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: Channel
    recipient: str
    body: str
    client_ref: str
    version: int
    """Incremented by every change; the `ETag` header carries it too."""
    created_at: datetime
    updated_at: datetime


class MessageDeleted(BaseModel):
    """What the `message.deleted` webhook event carries."""

    id: uuid.UUID


class MessagePage(BaseModel):
    """One page of messages; pass `next_cursor` back as `cursor` for the next
    one.
    """

    items: list[MessageRead]
    next_cursor: str | None


# --8<-- [end:message_response_models]
