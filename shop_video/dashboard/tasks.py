"""Moved to shop_video.notifications.tasks."""

from shop_video.notifications.tasks import send_batch_notifications, send_credits_low  # noqa: F401
