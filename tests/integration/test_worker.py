"""Jobs survive: real Celery worker processes, a real Redis, the real pipeline, real MP4 files."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from generation import services
from generation.constants import frame_count, frame_size
from generation.models import Job, Video
from generation.tasks import run_job_cpu
from tests.factories import JobFactory, OrganizationFactory, PhotoFactory, ensure_presets
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


# These tests prove job mechanics (delivery, crash, duplicate, cancel); they must not depend on the QA margins of
# a pipeline that is tuned elsewhere (QA below threshold → review is tested in test_services, QA itself in unit).
MECHANICS = {"SHOPVIDEO_QA_MIN_PSNR": "0", "SHOPVIDEO_QA_MIN_SSIM": "0"}


def _submit(org, *, seconds: int, aspect: str = "1:1", photos=None) -> Job:
    photos = photos or [PhotoFactory(product__organization=org)]
    matrix = services.VariantMatrix(markets=["us"], aspect_ratios=[aspect], seconds=[seconds], seed=7)
    batch = services.submit_batch(organization=org, user=None, photos=photos, matrix=matrix)
    return batch.jobs.get()


def _state(job: Job) -> Job:
    job.refresh_from_db()
    return job


def _stored_attempts(job: Job) -> dict[str, list[str]]:
    prefix = f"orgs/{job.organization_id}/videos/job-{job.pk}"
    if not default_storage.exists(prefix):
        return {}
    dirs, _files = default_storage.listdir(prefix)
    return {d: sorted(default_storage.listdir(f"{prefix}/{d}")[1]) for d in dirs}


def _decode(name: str) -> tuple[int, int, int]:
    with av.open(default_storage.path(name)) as container:
        frames = list(container.decode(video=0))
    return len(frames), frames[0].width, frames[0].height


def test_job_runs_end_to_end_through_a_real_worker(start_worker):
    start_worker()  # the real QA thresholds: this video must pass them to be delivered
    org = OrganizationFactory()
    job = _submit(org, seconds=2)

    wait_for(lambda: _state(job).is_final, 120, 0.3, "the job to finish")
    assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message)
    assert job.progress == 1.0
    assert job.attempt == 1
    assert job.worker
    video = Video.objects.get(job=job)
    assert video.attempt == 1
    assert video.qa_passed and video.review == Video.Review.READY
    assert video.psnr_min is not None and video.ssim_min is not None  # measured on the decoded MP4
    width, height = frame_size("480p", "1:1")
    assert _decode(video.file.name) == (frame_count(2, 16), width, height)
    assert default_storage.size(video.poster.name) > 1000
    assert video.size_bytes == default_storage.size(video.file.name)
    assert list(_stored_attempts(job)) == ["attempt-1"]
    # The local work folder goes right after the commit that made the job final.
    wait_for(lambda: not (Path(settings.SHOPVIDEO_WORK_DIR) / f"job-{job.pk}").exists(), 10, 0.1, "the work folder")


def test_duplicate_delivery_runs_the_job_once(shared_worker):
    worker = shared_worker(MECHANICS)
    job = JobFactory(seconds=1, dispatched_at=None)
    # Two messages for one job, both in the queue before the worker takes the first.
    run_job_cpu.delay(job.pk)
    run_job_cpu.delay(job.pk)

    wait_for(lambda: _state(job).is_final, 120, 0.3, "the job to finish")
    wait_for(lambda: f"job {job.pk}: nothing to claim" in worker.log(), 60, 0.3, "the second delivery")
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert job.attempt == 1
    assert Video.objects.filter(job=job).count() == 1
    assert list(_stored_attempts(job)) == ["attempt-1"]


def test_a_canceled_queued_job_is_never_run(shared_worker):
    ensure_presets()
    canceled = JobFactory(seconds=1)
    services.cancel_job(job=canceled)
    sentinel = JobFactory(seconds=1, photo=canceled.photo, batch=canceled.batch)
    shared_worker(MECHANICS)
    # The canceled job's message is ahead of the sentinel's; the worker takes them in order (concurrency 1).
    run_job_cpu.delay(canceled.pk)
    run_job_cpu.delay(sentinel.pk)

    wait_for(lambda: _state(sentinel).is_final, 120, 0.3, "the sentinel job")
    assert sentinel.state == Job.State.SUCCEEDED, (sentinel.error_code, sentinel.error_message)
    canceled.refresh_from_db()
    assert canceled.state == Job.State.CANCELED
    assert canceled.attempt == 0 and canceled.started_at is None
    assert not Video.objects.filter(job=canceled).exists()
    assert _stored_attempts(canceled) == {}


def test_cancel_stops_a_running_job(shared_worker):
    worker = shared_worker(MECHANICS)
    org = OrganizationFactory()
    job = _submit(org, seconds=5, aspect="9:16")
    wait_for(lambda: _state(job).state == Job.State.RUNNING and job.progress > 0.1, 120, 0.1, "render progress")

    services.cancel_job(job=job)
    canceled_at = time.monotonic()
    wait_for(lambda: f"job {job.pk} attempt 1 stopped" in worker.log(), 30, 0.1, "the worker to stop the job")
    stopped_after = time.monotonic() - canceled_at

    job.refresh_from_db()
    assert job.state == Job.State.CANCELED
    assert job.progress < 1.0
    assert not Video.objects.filter(job=job).exists()
    assert _stored_attempts(job) == {}
    wait_for(lambda: not (Path(settings.SHOPVIDEO_WORK_DIR) / f"job-{job.pk}").exists(), 10, 0.2, "work dir")
    # The worker is free again: the next job runs.
    nxt = _submit(org, seconds=1, photos=[job.photo])
    wait_for(lambda: _state(nxt).is_final, 120, 0.3, "the next job")
    assert nxt.state == Job.State.SUCCEEDED
    _record("cancel_running", stopped_after=stopped_after)


def test_fair_dispatch_a_big_batch_does_not_starve_another_organization(clean_broker, settings):
    """No worker: the broker's queue itself shows the order in which workers would take the jobs."""
    ensure_presets()
    settings.SHOPVIDEO_DISPATCH_PER_ORG = 2
    big, small = OrganizationFactory(), OrganizationFactory()
    big_photo = PhotoFactory(product__organization=big)
    matrix = services.VariantMatrix(markets=["us"], aspect_ratios=["9:16", "1:1", "16:9", "4:5"], seconds=[1, 2, 3])
    big_batch = services.submit_batch(organization=big, user=None, photos=[big_photo], matrix=matrix)
    assert big_batch.jobs.count() == 12
    small_job = _submit(small, seconds=1)

    big_ids = list(big_batch.jobs.order_by("id").values_list("id", flat=True))
    assert clean_broker.queued_job_ids() == [big_ids[0], big_ids[1], small_job.pk]
    assert big_batch.jobs.filter(dispatched_at__isnull=True).count() == 10  # waiting in the database

    # A big-batch job finishes: exactly one more of that batch is sent, behind the small organization's job.
    Job.objects.filter(pk=big_ids[0]).update(state=Job.State.SUCCEEDED)
    assert services.dispatch_jobs() == 1
    assert clean_broker.queued_job_ids() == [big_ids[0], big_ids[1], small_job.pk, big_ids[2]]


def _record(name: str, **figures: float) -> None:
    """Measured figures for the reliability notes (var/ is git-ignored)."""
    import json

    out = Path(settings.VAR_DIR) / "reliability" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({k: round(v, 2) for k, v in figures.items()}, indent=1))
