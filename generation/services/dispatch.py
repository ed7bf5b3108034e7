"""Dispatch (fair between organizations), cancel and retry."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.services import ledger
from generation.models import Batch, Job
from generation.services.errors import JobNotRetryable
from generation.services.signals import job_finished, job_requeued

logger = logging.getLogger(__name__)


def _task_for(engine: str):
    from generation import tasks

    return tasks.run_job_gpu if engine == "dit" else tasks.run_job_cpu


def _send(job_id: int, engine: str, countdown: float | None = None) -> None:
    _task_for(engine).apply_async(
        (job_id,),
        countdown=countdown,
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
    )


def _per_org_limit() -> int:
    return max(1, int(getattr(settings, "SHOPVIDEO_DISPATCH_PER_ORG", 8)))


def dispatch_jobs(*, limit_per_org: int | None = None) -> int:
    """Send queued, not yet sent jobs to the broker: at most `limit_per_org` in flight per organization, taking
    turns between organizations, so one organization's 10,000-job batch never starves another's single job.
    Jobs wait in the database (state queued, dispatched_at null) until their organization has room."""
    limit = limit_per_org or _per_org_limit()
    waiting = (
        Job.objects.filter(state=Job.State.QUEUED, dispatched_at__isnull=True)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    org_ids = sorted(set(waiting))
    if not org_ids:
        return 0
    in_flight: dict[int, int] = dict.fromkeys(org_ids, 0)
    busy = Job.objects.filter(organization_id__in=org_ids).filter(
        Q(state=Job.State.RUNNING) | Q(state=Job.State.QUEUED, dispatched_at__isnull=False)
    )
    for org_id in busy.values_list("organization_id", flat=True):
        in_flight[org_id] += 1
    queues: dict[int, list[tuple[int, str]]] = {}
    for org_id in org_ids:
        room = limit - in_flight[org_id]
        if room > 0:
            queues[org_id] = list(
                Job.objects.filter(organization_id=org_id, state=Job.State.QUEUED, dispatched_at__isnull=True)
                .order_by("queued_at", "id")
                .values_list("id", "engine")[:room]
            )
    sent = 0
    # Round robin: the first job of every organization, then the second of each, …
    for rank in range(max((len(q) for q in queues.values()), default=0)):
        for org_id in org_ids:
            q = queues.get(org_id, [])
            if rank < len(q):
                sent += _dispatch_one(*q[rank])
    return sent


def _dispatch_one(job_id: int, engine: str, countdown: float | None = None) -> int:
    # Mark first (only one dispatcher wins the row), then send; a failed send is undone so the next tick retries.
    stamp = timezone.now()
    won = Job.objects.filter(id=job_id, state=Job.State.QUEUED, dispatched_at__isnull=True).update(dispatched_at=stamp)
    if not won:
        return 0
    try:
        _send(job_id, engine, countdown)
    except Exception:
        logger.exception("could not send job %s to the broker; the reaper will try again", job_id)
        Job.objects.filter(id=job_id, state=Job.State.QUEUED, dispatched_at=stamp).update(dispatched_at=None)
        return 0
    return 1


def dispatch_jobs_safely() -> None:
    """For on_commit hooks: a broker outage must not turn a committed submission into an error page."""
    try:
        dispatch_jobs()
    except Exception:
        logger.exception("dispatch failed; the reaper will dispatch later")


def _delivered_or_not(job_ids: Iterable[int]) -> dict[int, bool]:
    """What billing settles: each finished job's id → whether its video was delivered (capture) or not (release)."""
    finished = (Job.State.SUCCEEDED, Job.State.FAILED, Job.State.CANCELED)
    rows = Job.objects.filter(id__in=list(job_ids), state__in=finished).values_list("id", "state")
    return {job_id: state == Job.State.SUCCEEDED for job_id, state in rows}


def _finished(job_ids: Iterable[int]) -> None:
    ids = list(job_ids)
    if not ids:
        return
    # Capture or release the jobs' credits in the transaction that finalizes them: exactly once.
    ledger.settle_jobs(_delivered_or_not(ids))

    def send() -> None:
        for job in Job.objects.filter(id__in=ids):
            job_finished.send(sender=Job, job=job, state=job.state)

    transaction.on_commit(send)


def cancel_job(*, job: Job) -> Job:
    """Queued: it will never run. Running: it stops at its next progress callback. Final: nothing changes."""
    with transaction.atomic():
        changed = Job.objects.filter(id=job.pk, state__in=Job.ACTIVE_STATES).update(
            state=Job.State.CANCELED,
            stage="canceled",
            finished_at=timezone.now(),
            error_code="",
            error_message="",
        )
        if changed:
            _finished([job.pk])
            transaction.on_commit(dispatch_jobs_safely)  # the organization has room again
    job.refresh_from_db()
    return job


def cancel_batch(*, batch: Batch) -> int:
    with transaction.atomic():
        ids = list(batch.jobs.filter(state__in=Job.ACTIVE_STATES).values_list("id", flat=True))
        changed = Job.objects.filter(id__in=ids, state__in=Job.ACTIVE_STATES).update(
            state=Job.State.CANCELED, stage="canceled", finished_at=timezone.now()
        )
        _finished(ids)
        transaction.on_commit(dispatch_jobs_safely)
    return changed


def retry_job(*, job: Job) -> Job:
    """A failed or canceled job is queued again with a fresh attempt budget."""
    with transaction.atomic():
        changed = Job.objects.filter(id=job.pk, state__in=[Job.State.FAILED, Job.State.CANCELED]).update(
            state=Job.State.QUEUED,
            max_attempts=F("attempt") + int(settings.SHOPVIDEO_JOB_MAX_ATTEMPTS),
            progress=0.0,
            stage="",
            error_code="",
            error_message="",
            worker="",
            heartbeat_at=None,
            started_at=None,
            finished_at=None,
            queued_at=timezone.now(),
            dispatched_at=None,
        )
        if not changed:
            raise JobNotRetryable(_("Only a failed or canceled job can be retried."))
        job.refresh_from_db()
        ledger.reserve_jobs(organization=job.organization, credits_by_job={job.pk: job.credits})  # a new round
        transaction.on_commit(lambda: job_requeued.send(sender=Job, job=job))
        transaction.on_commit(dispatch_jobs_safely)
    return job
