"""Signal receivers: the job path of generation.services emits webhook events (signals are sent after commit)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from generation.services import job_finished

from . import events

logger = logging.getLogger(__name__)


@receiver(job_finished, dispatch_uid="webhooks.on_job_finished")
def _job_finished(sender, job, state=None, **kwargs) -> None:
    try:
        events.on_job_finished(job.pk)
    except Exception:
        # A webhook problem must never undo or break a finished job.
        logger.exception("webhook events for job %s could not be emitted", getattr(job, "pk", None))
