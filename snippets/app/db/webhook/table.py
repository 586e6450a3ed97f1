# --8<-- [start:webhooks_table]
"""Data access for `webhooks`."""

from typing import ClassVar

from app.base.owned_table import OwnedTable
from app.db.webhook.model import Webhook


class WebhooksTable(OwnedTable[Webhook]):
    """Repository for one owner's webhook subscriptions; everything it needs
    comes from `OwnedTable`.
    """

    model = Webhook
    unique_fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "webhooks_event_target_url_live_key": ("event", "target_url")
    }


# --8<-- [end:webhooks_table]
