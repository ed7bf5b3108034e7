"""The reaper: requeue jobs whose worker was lost, re-send lost messages, dispatch waiting jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from generation.models import Job
from generation.services.dispatch import _finished, _send, dispatch_jobs
from generation.services.worker import _running

logger = logging.getLogger(__name__)


@dataclass
class ReapReport:
    requeued: list[int] = field(default_factory=list)  # running jobs whose worker was lost, queued again
    failed: list[int] = field(default_factory=list)  # … with no attempts left
    resent: list[int] = field(default_factory=list)  # queued jobs sent to the broker again
    dispatched: int = 0  # waiting jobs sent by the fair dispatcher

    def __str__(self) -> str:
        return (
            f"requeued {len(self.requeued)}, failed {len(self.failed)}, resent {len(self.resent)}, "
            f"dispatched {self.dispatched}"
        )


def reap_jobs() -> ReapReport:
    """Requeue running jobs whose heartbeat went stale (or fail them when no attempt is left), re-send queued
    jobs the broker may have lost, and dispatch waiting jobs. Settings are read at call time."""
    report = ReapReport()
    now = timezone.now()
    stale_before = now - timedelta(seconds=float(settings.SHOPVIDEO_HEARTBEAT_STALE_SECONDS))
    stale = Job.objects.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    for job_id, attempt, max_attempts in stale.values_list("id", "attempt", "max_attempts"):
        fence = _running(job_id, attempt).filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
        if attempt < max_attempts:
            with transaction.atomic():
                if fence.update(state=Job.State.QUEUED, stage="requeued", worker="", queued_at=now, dispatched_at=None):
                    report.requeued.append(job_id)
        else:
            with transaction.atomic():
                if fence.update(
                    state=Job.State.FAILED,
                    error_code="worker_lost",
                    error_message=_("The worker making this video stopped responding on every attempt."),
                    finished_at=now,
                ):
                    report.failed.append(job_id)
                    _finished([job_id])
    resend_before = now - timedelta(seconds=float(settings.SHOPVIDEO_QUEUED_RESEND_SECONDS))
    lost = Job.objects.filter(state=Job.State.QUEUED, dispatched_at__lt=resend_before)
    for job_id, engine, sent_at in lost.values_list("id", "engine", "dispatched_at"):
        if Job.objects.filter(id=job_id, state=Job.State.QUEUED, dispatched_at=sent_at).update(dispatched_at=now):
            try:
                _send(job_id, engine)
                report.resent.append(job_id)
            except Exception:
                logger.exception("could not re-send job %s", job_id)
    report.dispatched = dispatch_jobs()
    if report.requeued or report.failed or report.resent:
        logger.info("reaper: %s", report)
    return report
