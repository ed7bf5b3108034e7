"""Drills with real worker processes: a worker SIGKILLed mid-batch, a worker frozen with SIGSTOP, a worker
stopped with SIGTERM, and fair scheduling with a 200-job batch. Each records its recovery times under
var/reliability/ for docs/reliability.md."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from generation import services
from generation.models import Job, Video
from tests.factories import JobFactory, PhotoFactory

from .conftest import (
    MECHANICS,
    assert_credits_captured_once,
    assert_each_succeeded_once,
    counts,
    new_org,
    record,
    signal_group,
    stored_attempts,
    submit_batch,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _job(job: Job) -> Job:
    job.refresh_from_db()
    return job


def _running_on(batch, worker) -> Job | None:
    return batch.jobs.filter(state=Job.State.RUNNING, worker__startswith=f"{worker.name}@").first()


def test_sigkill_one_of_two_workers_mid_batch_every_job_succeeds_exactly_once(start_worker, settings):
    first = start_worker(MECHANICS)
    start_worker(MECHANICS)
    batch = submit_batch(new_org(), 12)
    started = time.monotonic()

    victim = wait_for(
        lambda: counts(batch).get("succeeded", 0) >= 3 and _running_on(batch, first),
        180,
        0.1,
        "a job running on the first worker after a few successes",
    )
    assert len(first.pids()) >= 2  # main process and pool child (and the embedded beat): all of them die
    first.kill9()
    killed_at = time.monotonic()
    start_worker(MECHANICS)  # the same host comes back
    restarted_after = time.monotonic() - killed_at

    wait_for(lambda: _job(victim).attempt == 2, 60, 0.1, "the reaper to hand the killed job to a new attempt")
    requeued_after = time.monotonic() - killed_at
    wait_for(lambda: _job(victim).state == Job.State.SUCCEEDED, 120, 0.2, "the killed worker's job")
    victim_recovered_after = time.monotonic() - killed_at
    wait_for(lambda: not batch.jobs.filter(state__in=Job.ACTIVE_STATES).exists(), 240, 0.5, "the batch")
    total = time.monotonic() - started

    assert_each_succeeded_once(batch)
    assert_credits_captured_once(batch)
    assert victim.attempt == 2  # the killed attempt did not count as a success; the second one did
    assert batch.jobs.filter(attempt=1).count() == 11
    # One set of files: the killed attempt left nothing in storage, nor in the local work folder.
    video = Video.objects.get(job=victim)
    assert stored_attempts(victim) == ["attempt-2"] and video.attempt == 2
    assert video.file.name.rsplit("/", 2)[1] == video.poster.name.rsplit("/", 2)[1] == "attempt-2"
    assert default_storage.exists(video.file.name) and default_storage.exists(video.poster.name)
    wait_for(lambda: not (Path(settings.SHOPVIDEO_WORK_DIR) / f"job-{victim.pk}").exists(), 10, 0.1, "the work folder")
    record(
        "sigkill_mid_batch",
        jobs=12,
        workers=2,
        worker_restarted_after_s=restarted_after,
        killed_job_requeued_after_s=requeued_after,
        killed_job_succeeded_after_s=victim_recovered_after,
        batch_total_s=total,
    )


def test_frozen_worker_is_fenced_after_takeover(start_worker, stopped_groups):
    frozen = start_worker(MECHANICS)
    org = new_org()
    job = submit_batch(org, 1, seconds=5, aspect="9:16").jobs.get()
    wait_for(lambda: _job(job).state == Job.State.RUNNING and job.progress > 0.1, 120, 0.1, "render progress")
    assert job.attempt == 1 and job.progress < 0.9, "the freeze must land mid-render"

    signal_group(frozen, signal.SIGSTOP)  # main process, pool child, heartbeat thread, beat: all paused
    stopped_groups.append(frozen)
    frozen_at = time.monotonic()
    start_worker(MECHANICS)
    wait_for(lambda: _job(job).attempt == 2 and job.state != Job.State.QUEUED, 90, 0.2, "another worker's attempt")
    taken_over_after = time.monotonic() - frozen_at

    signal_group(frozen, signal.SIGCONT)  # the paused attempt wakes up and must not commit over attempt 2
    wait_for(
        lambda: (
            f"job {job.pk} attempt 1 stopped" in frozen.log()
            or f"job {job.pk} attempt 1 lost its claim" in frozen.log()
        ),
        90,
        0.2,
        "the resumed worker to notice it lost the job",
    )
    wait_for(lambda: _job(job).is_final, 120, 0.3, "the job to finish")
    finished_after = time.monotonic() - frozen_at

    assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message)
    assert job.attempt == 2
    assert list(Video.objects.filter(job=job).values_list("attempt", flat=True)) == [2]
    assert stored_attempts(job) == ["attempt-2"]
    record("sigstop_takeover", taken_over_after_s=taken_over_after, finished_after_s=finished_after)


def test_sigterm_warm_shutdown_finishes_or_hands_back_the_job(start_worker):
    worker = start_worker(MECHANICS)
    job = submit_batch(new_org(), 1, seconds=3, aspect="9:16").jobs.get()
    wait_for(lambda: _job(job).state == Job.State.RUNNING and job.progress > 0.05, 120, 0.1, "render progress")

    worker.proc.send_signal(signal.SIGTERM)  # what `docker stop` / systemd send to the main process
    sent_at = time.monotonic()
    worker.proc.wait(120)
    exited_after = time.monotonic() - sent_at
    assert "warm shutdown" in worker.log().lower()

    job.refresh_from_db()
    handed_back = job.state != Job.State.SUCCEEDED
    assert job.state in (Job.State.SUCCEEDED, Job.State.RUNNING, Job.State.QUEUED), job.state
    if handed_back:  # never left running forever: the reaper hands it to the next worker
        start_worker(MECHANICS)
    wait_for(lambda: _job(job).is_final, 120, 0.3, "the job to finish")
    assert job.state == Job.State.SUCCEEDED
    assert Video.objects.filter(job=job).count() == 1
    assert stored_attempts(job) == [f"attempt-{job.attempt}"]
    record("sigterm_shutdown", worker_exited_after_s=exited_after, handed_back=int(handed_back))


def test_fairness_a_200_job_batch_does_not_starve_another_organizations_job(start_worker, settings):
    per_org = 3
    settings.SHOPVIDEO_DISPATCH_PER_ORG = per_org
    big_org = new_org()
    template = JobFactory(photo=PhotoFactory(product__organization=big_org), dispatched_at=None)
    rows = []
    for _ in range(199):
        row = Job.objects.get(pk=template.pk)
        row.pk = None
        row.queued_at = timezone.now()
        rows.append(row)
    Job.objects.bulk_create(rows)
    big = Job.objects.filter(batch=template.batch)
    assert big.count() == 200
    services.dispatch_jobs()
    start_worker({**MECHANICS, "SHOPVIDEO_DISPATCH_PER_ORG": str(per_org)})

    wait_for(lambda: big.filter(state=Job.State.SUCCEEDED).count() >= 2, 120, 0.2, "the big batch to be under way")
    started_before = big.filter(started_at__isnull=False).count()
    submitted_at = time.monotonic()
    small = submit_batch(new_org(), 1).jobs.get()
    wait_for(lambda: _job(small).started_at is not None, 90, 0.1, "the other organization's job to start")
    waited = time.monotonic() - submitted_at
    started_first = big.filter(started_at__isnull=False, started_at__lt=small.started_at).count()
    big_started_meanwhile = started_first - started_before

    services.cancel_batch(batch=template.batch)  # the drill ends here; the rest of the batch never runs
    wait_for(lambda: _job(small).is_final, 60, 0.2, "the small job")
    assert small.state == Job.State.SUCCEEDED
    # At most the big organization's jobs already in the broker ran first, not the batch.
    assert big_started_meanwhile <= per_org
    assert big.filter(started_at__isnull=True).count() >= 190
    record(
        "fairness_200",
        big_batch_jobs=200,
        per_org_in_flight=per_org,
        big_jobs_started_before_small=big_started_meanwhile,
        small_job_waited_s=waited,
    )
