"""Receivers of the domain signals that send the merchants' emails (connected by the dashboard app's ready())."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from billing.signals import credits_low
from generation.models import Job
from generation.services.signals import job_finished

from . import tasks  # noqa: F401 — registers the email tasks wherever the receivers are connected (web, workers)
from .services import queue_batch_notifications, queue_credits_low

logger = logging.getLogger(__name__)


@receiver(credits_low, dispatch_uid="notifications.on_credits_low")
def _credits_low(sender, organization_id, **kwargs) -> None:
    """The members' email; queued after the ledger's transaction commits."""
    queue_credits_low(organization_id)


@receiver(job_finished, dispatch_uid="notifications.on_job_finished")
def _job_finished(sender, job, state=None, **kwargs) -> None:
    """The batch emails once the batch's last job is final (sent once per batch end: the service checks again)."""
    try:
        if not Job.objects.filter(batch_id=job.batch_id, state__in=Job.ACTIVE_STATES).exists():
            queue_batch_notifications(job.batch_id)
    except Exception:
        # An email problem must never undo or break a finished job.
        logger.exception("batch emails for job %s could not be queued", getattr(job, "pk", None))
