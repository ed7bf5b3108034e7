"""Celery tasks of the notifications: thin, they take ids and call the notification services (on the `events` queue)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services as notifications

# Sending is idempotent per user and event (NotificationSent), so a retry only sends what failed.
_RETRY = {
    "acks_late": True,
    "ignore_result": True,
    # OSError covers smtplib's errors and refused connections to the mail server.
    "autoretry_for": (OperationalError, InterfaceError, OSError, notifications.NotificationsNotSent),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="dashboard.tasks.send_batch_notifications", **_RETRY)
def send_batch_notifications(batch_id: int) -> int:
    return notifications.send_batch_notifications(int(batch_id))


@shared_task(name="dashboard.tasks.send_credits_low", **_RETRY)
def send_credits_low(organization_id: int, event_key: str) -> int:
    return notifications.send_credits_low(int(organization_id), str(event_key))
