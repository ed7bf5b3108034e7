"""Signal receivers: the job path of generation.services (signals sent after commit) and billing's `credits_low`
(sent inside the ledger's transaction: `emit` queues the deliveries after commit) emit webhook events."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from billing.signals import credits_low
from generation.services import job_finished

from . import events, services

logger = logging.getLogger(__name__)


@receiver(job_finished, dispatch_uid="webhooks.on_job_finished")
def _job_finished(sender, job, state=None, **kwargs) -> None:
    try:
        events.on_job_finished(job.pk)
    except Exception:
        # A webhook problem must never undo or break a finished job.
        logger.exception("webhook events for job %s could not be emitted", getattr(job, "pk", None))


@receiver(credits_low, dispatch_uid="webhooks.on_credits_low")
def _credits_low(sender, organization_id, balance, reserved, available, threshold, **kwargs) -> None:
    services.emit(
        "credits.low",
        organization_id,
        {"balance": balance, "reserved": reserved, "available": available, "threshold": threshold},
    )
