"""Celery tasks for webhooks: thin, they take a delivery id and call the service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="webhooks.tasks.deliver_webhook",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # The attempt budget lives in the database (SHOPVIDEO_WEBHOOK_MAX_ATTEMPTS), not in Celery's counter, so
    # duplicates and re-sends by the sweeper cannot exceed it.
    max_retries=None,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
)
def deliver_webhook(self, delivery_id: int) -> str:
    outcome = services.deliver(int(delivery_id))
    if outcome.retry_in is not None:
        # Exponential backoff: the service computed the wait for this attempt number.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="webhooks.tasks.send_due_deliveries", ignore_result=True, acks_late=False)
def send_due_deliveries() -> int:
    return services.send_due_deliveries()
