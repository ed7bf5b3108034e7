"""Moved to shop_video.notifications.services."""

from shop_video.notifications.services import *  # noqa: F403
from shop_video.notifications.services import (  # noqa: F401
    NotificationsNotSent,
    batch_summary,
    credits_low_key,
    queue_batch_notifications,
    queue_credits_low,
    review_reasons,
    send_batch_notifications,
    send_credits_low,
)
