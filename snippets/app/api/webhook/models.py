# --8<-- [start:webhook_models]
"""Request and response bodies of the webhook API."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PlainSerializer,
    UrlConstraints,
    field_validator,
)

from app.api.openapi import partial_update_schema
from app.base.base_entity import TEXT_NOT_BLANK
from app.db.webhook.model import WebhookEvent

TARGET_URL_MAX_LENGTH = 2048


def normalised_length_within_limit(url: HttpUrl) -> HttpUrl:
    """Measure the URL as stored, as the CHECK does: normalising turns a space
    or an "é" into 3 or 6 characters.
    """
    if len(str(url)) > TARGET_URL_MAX_LENGTH:
        raise ValueError(
            f"must be at most {TARGET_URL_MAX_LENGTH} characters once"
            " normalised"
        )
    return url


# Parsed and normalised as a URL (`HTTPS://Example.com` becomes
# `https://example.com/`), dumped as text.
TargetUrl = Annotated[
    HttpUrl,
    # also the published maxLength
    UrlConstraints(
        allowed_schemes=["https"], max_length=TARGET_URL_MAX_LENGTH
    ),
    AfterValidator(normalised_length_within_limit),
    PlainSerializer(str, return_type=str),
]
Description = Annotated[
    str,
    Field(min_length=1, max_length=500, pattern=TEXT_NOT_BLANK),
    AfterValidator(str.strip),
]


class WebhookCreate(BaseModel):
    """What a client sends to subscribe to an event. The signing secret is not
    among it: the server makes it.
    """

    model_config = ConfigDict(extra="forbid")

    target_url: TargetUrl
    event: WebhookEvent
    description: Description | None = None
    is_active: bool = True


class WebhookUpdate(BaseModel):
    """A partial update: only the fields sent are changed; `description: null`
    clears the description.
    """

    # The document must not offer the `null` that `reject_null` refuses.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=partial_update_schema(
            "target_url", "event", "is_active", at_least_one=False
        ),
    )

    target_url: TargetUrl | None = None
    event: WebhookEvent | None = None
    description: Description | None = None
    is_active: bool | None = None

    @field_validator("target_url", "event", "is_active")
    @classmethod
    def reject_null(cls, value: object) -> object:
        """Omitting a field keeps it; an explicit `null` would erase a required
        value.
        """
        if value is None:
            raise ValueError(
                "cannot be null; omit the field to keep its value"
            )
        return value


class WebhookRead(BaseModel):
    """A subscription as the API returns it, without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    target_url: str
    event: WebhookEvent
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    """The answer to a create: the only response that carries the secret."""

    secret: str = Field(
        description=(
            "HMAC-SHA256 key for verifying deliveries. Shown once: store it"
            " now."
        )
    )


class WebhookPage(BaseModel):
    """One page of subscriptions; pass `next_cursor` back as `cursor` for the
    next one.
    """

    items: list[WebhookRead]
    next_cursor: str | None


# --8<-- [end:webhook_models]
