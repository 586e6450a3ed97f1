"""The data layer.

Importing it registers every entity, so relationships declared by class name
(`list["MessageDelivery"]`) resolve whichever entity module is imported first.
"""

from app.db.message.model import Message
from app.db.message_delivery.model import MessageDelivery
from app.db.webhook.model import Webhook
from app.db.webhook_delivery.model import WebhookDelivery

__all__ = ["Message", "MessageDelivery", "Webhook", "WebhookDelivery"]
