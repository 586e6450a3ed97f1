# --8<-- [start:webhooks_table]
"""Data access for `webhooks`."""

from typing import ClassVar

from app.base.base_table import BaseTable
from app.db.webhook.model import Webhook


class WebhooksTable(BaseTable[Webhook]):
    """Repository for webhook subscriptions; everything it needs comes from `BaseTable`."""

    model = Webhook
    unique_fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "webhooks_event_target_url_live_key": ("event", "target_url")
    }


# --8<-- [end:webhooks_table]
