"""Data access for `messages`."""

from app.base.base_table import BaseTable
from app.db.message.model import Message


# --8<-- [start:messages_table]
class MessagesTable(BaseTable[Message]):
    """Repository for messages; everything it needs comes from `BaseTable`."""

    model = Message


# --8<-- [end:messages_table]
