"""SOL005 NS LCM subscriptions and durable (outbox) notification delivery."""

from nfvo.notifications.delivery import DeliveryPolicy
from nfvo.notifications.outbox import (
    change_notification,
    creation_notification,
    deletion_notification,
    enqueue,
    new_notification,
    op_occ_notification,
)
from nfvo.notifications.service import NotificationService, Subscription

__all__ = [
    "DeliveryPolicy",
    "NotificationService",
    "Subscription",
    "change_notification",
    "creation_notification",
    "deletion_notification",
    "enqueue",
    "new_notification",
    "op_occ_notification",
]
