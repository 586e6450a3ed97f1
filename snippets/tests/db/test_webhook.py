# --8<-- [start:webhook_db_tests]
"""`WebhooksTable` against the real schema: the constraints the migration
promises.
"""

import secrets

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.webhook.models import WebhookUpdate
from app.core.errors import ConflictError
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook.table import WebhooksTable
from tests.principals import OWNER


@pytest.fixture
def webhooks(session: AsyncSession) -> WebhooksTable:
    return WebhooksTable(session, OWNER)


def webhook(event: WebhookEvent = WebhookEvent.MESSAGE_CREATED) -> Webhook:
    """A valid row for the same URL each time."""
    return Webhook(
        target_url="https://hooks.example.com/a",
        event=event,
        secret=secrets.token_urlsafe(32),
    )


async def test_insert_fills_defaults_and_finds_active_subscribers(
    webhooks: WebhooksTable,
) -> None:
    inserted = await webhooks.insert_model(webhook())

    assert inserted.is_active is True
    assert inserted.description is None
    assert inserted.created_at.tzinfo is not None
    assert (
        await webhooks.first_by(
            event=WebhookEvent.MESSAGE_CREATED, is_active=True
        )
        is inserted
    )


async def test_a_live_url_and_event_pair_is_unique(
    webhooks: WebhooksTable,
) -> None:
    await webhooks.insert_model(webhook())
    # same URL, other event
    await webhooks.insert_model(webhook(event=WebhookEvent.MESSAGE_DELETED))

    with pytest.raises(ConflictError) as raised:
        await webhooks.insert_model(webhook())

    assert raised.value.fields == ("event", "target_url")


async def test_a_soft_deleted_pair_may_be_subscribed_again(
    webhooks: WebhooksTable,
) -> None:
    first = await webhooks.insert_model(webhook())
    assert await webhooks.soft_delete(first.id)

    again = await webhooks.insert_model(webhook())

    assert (
        await webhooks.all_count(
            include_deleted=True, target_url=again.target_url
        )
        == 2
    )


@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        (
            {"target_url": "http://hooks.example.com/a"},
            "webhooks_target_url_check",
        ),
        ({"event": "message.exploded"}, "webhooks_event_check"),
        ({"secret": "short"}, "webhooks_secret_check"),
        ({"description": ""}, "webhooks_description_check"),
    ],
)
async def test_check_constraints_guard_what_bypasses_the_api(
    webhooks: WebhooksTable, change: dict[str, str], constraint: str
) -> None:
    row = webhook()
    for column, value in change.items():
        # table models skip validation, as raw SQL would
        setattr(row, column, value)

    with pytest.raises(IntegrityError, match=constraint):
        await webhooks.insert_model(row)


async def test_update_dumps_the_url_as_text(webhooks: WebhooksTable) -> None:
    inserted = await webhooks.insert_model(webhook())

    updated = await webhooks.update(
        inserted.id,
        WebhookUpdate.model_validate({"target_url": "https://b.example.com"}),
    )

    assert updated is not None
    assert updated.target_url == "https://b.example.com/"
    assert updated.event == WebhookEvent.MESSAGE_CREATED


# --8<-- [end:webhook_db_tests]
