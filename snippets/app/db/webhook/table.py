# --8<-- [start:webhooks_table]
"""Data access for `webhooks`."""

from app.base.base_table import BaseTable
from app.db.webhook.model import Webhook


class WebhooksTable(BaseTable[Webhook]):
    """Repository for webhook subscriptions; everything it needs comes from `BaseTable`."""

    model = Webhook


# --8<-- [end:webhooks_table]
