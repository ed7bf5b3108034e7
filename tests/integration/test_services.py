"""Job services: the variant matrix, estimates, tenancy, cancel/retry, the reaper and attempt fencing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone

from billing import pricing
from generation import selectors, services
from generation.models import Batch, Job, Video
from generation.pipeline.errors import JobCanceled
from tests.factories import (
    BatchFactory,
    JobFactory,
    ModelLookFactory,
    OrganizationFactory,
    PhotoFactory,
    ensure_presets,
    market,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _presets():
    ensure_presets()


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"
    return settings.MEDIA_ROOT


def Matrix(**kw) -> services.VariantMatrix:
    kw.setdefault("markets", ["us"])
    return services.VariantMatrix(**kw)


def test_matrix_expands_to_photos_x_markets_x_scenes_x_looks_x_aspects_x_durations():
    org = OrganizationFactory()
    photos = PhotoFactory.create_batch(2, product__organization=org)
    matrix = Matrix(
        markets=["us", "gb"],
        scenes=["studio-sweep", "oak-table"],
        looks=["casual-20s", "active"],
        aspect_ratios=["9:16", "1:1"],
        seconds=[5, 10],
        seed=11,
        engine="dit",  # only the DiT engine draws a person
    )

    batch = services.submit_batch(organization=org, user=None, photos=photos, matrix=matrix, name="Spring")

    jobs = batch.jobs.all()
    assert jobs.count() == 2 * 2 * 2 * 2 * 2 * 2
    combos = set(jobs.values_list("photo", "market__slug", "scene__slug", "look__slug", "aspect_ratio", "seconds"))
    assert len(combos) == 64  # every combination exactly once
    assert set(jobs.values_list("state", "seed", "engine", "resolution")) == {("queued", 11, "dit", "480p")}
    five, ten = (pricing.credits_for_video(engine="dit", resolution="480p", seconds=s) for s in (5, 10))
    assert jobs.filter(credits=five).count() == 32 and jobs.filter(credits=ten).count() == 32


def test_empty_scenes_aspects_and_looks_take_the_market_defaults():
    org = OrganizationFactory()
    photo = PhotoFactory(product__organization=org)

    batch = services.submit_batch(organization=org, user=None, photos=[photo], matrix=Matrix(markets=["kr"]))

    # kr: tiktok, reels, shorts (9:16) and feed (4:5); its first scene; no human model.
    assert sorted(batch.jobs.values_list("aspect_ratio", flat=True)) == ["4:5", "9:16"]
    assert set(batch.jobs.values_list("scene__slug", "look", "seconds")) == {("soft-gradient", None, 5)}
    seeds = list(batch.jobs.values_list("seed", flat=True))
    assert all(0 <= s < 2**31 for s in seeds)


def test_an_organizations_own_look_is_used():
    org = OrganizationFactory()
    own = ModelLookFactory(organization=org, market=market("us"), slug="our-model")
    photo = PhotoFactory(product__organization=org)

    batch = services.submit_batch(
        organization=org,
        user=None,
        photos=[photo],
        matrix=Matrix(looks=["our-model"], aspect_ratios=["1:1"], engine="dit"),
    )
    assert batch.jobs.get().look == own
    assert own in selectors.looks_for(org, "us")
    assert own not in selectors.looks_for(OrganizationFactory(), "us")
    # Another organization cannot use it.
    other = OrganizationFactory()
    with pytest.raises(services.MatrixInvalid) as caught:
        services.validate_matrix(organization=other, matrix=Matrix(looks=["our-model"], engine="dit"))
    assert "looks" in caught.value.fields


def test_estimate_equals_the_sum_of_the_job_credits():
    org = OrganizationFactory()
    photos = PhotoFactory.create_batch(3, product__organization=org)
    matrix = Matrix(markets=["us", "de"], aspect_ratios=["9:16", "16:9"], seconds=[5, 15], resolution="720p")

    estimate = services.estimate_batch(organization=org, photos=photos, matrix=matrix)
    batch = services.submit_batch(organization=org, user=None, photos=photos, matrix=matrix)

    jobs = list(batch.jobs.all())
    assert estimate.videos == len(jobs) == 3 * 2 * 2 * 2
    assert estimate.credits == sum(j.credits for j in jobs) == 24 * 2 * 10  # 2 credits/s at 720p, 10 s average
    assert estimate.seconds == sum(j.seconds for j in jobs)
    assert all(
        j.credits == pricing.credits_for_video(engine="compositor", resolution="720p", seconds=j.seconds) for j in jobs
    )


@pytest.mark.parametrize(
    ("matrix", "field"),
    [
        (Matrix(markets=["atlantis"]), "markets"),
        (Matrix(markets=[]), "markets"),
        (Matrix(aspect_ratios=["3:2"]), "aspect_ratios"),
        (Matrix(engine="sora"), "engine"),
        (Matrix(resolution="4k"), "resolution"),
        (Matrix(seconds=[0]), "seconds"),
        (Matrix(seconds=[31]), "seconds"),
        (Matrix(seconds=[]), "seconds"),
        (Matrix(scenes=["moon-base"]), "scenes"),
        (Matrix(looks=["modest-casual"]), "looks"),  # a look the us market does not offer
        (Matrix(seed=-1), "seed"),
    ],
)
def test_an_invalid_matrix_is_refused_with_fields_and_creates_nothing(matrix, field):
    org = OrganizationFactory()
    photo = PhotoFactory(product__organization=org)

    with pytest.raises(services.MatrixInvalid) as caught:
        services.submit_batch(organization=org, user=None, photos=[photo], matrix=matrix)

    assert caught.value.code == "invalid_matrix"
    assert caught.value.fields.get(field)
    assert Batch.objects.count() == 0 and Job.objects.count() == 0


def test_more_videos_than_the_batch_cap_is_refused(settings):
    settings.SHOPVIDEO_MAX_VIDEOS_PER_BATCH = 10
    org = OrganizationFactory()
    photos = PhotoFactory.create_batch(3, product__organization=org)
    matrix = Matrix(aspect_ratios=["9:16", "1:1"], seconds=[5, 10])  # 3 × 4 = 12 videos

    with pytest.raises(services.MatrixInvalid) as caught:
        services.estimate_batch(organization=org, photos=photos, matrix=matrix)
    assert "matrix" in caught.value.fields
    with pytest.raises(services.MatrixInvalid):
        services.submit_batch(organization=org, user=None, photos=photos, matrix=matrix)
    assert Job.objects.count() == 0
    assert services.estimate_batch(organization=org, photos=photos[:2], matrix=matrix).videos == 8


def test_submitting_another_organizations_photo_is_refused():
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    my_photo = PhotoFactory(product__organization=mine)
    their_photo = PhotoFactory(product__organization=theirs)

    with pytest.raises(services.MatrixInvalid) as caught:
        services.submit_batch(organization=mine, user=None, photos=[my_photo, their_photo], matrix=Matrix())
    assert "photos" in caught.value.fields
    assert Batch.objects.count() == 0 and Job.objects.count() == 0


def test_selectors_never_return_another_organizations_rows():
    a, b = OrganizationFactory(), OrganizationFactory()
    job_a = JobFactory(photo__product__organization=a)
    job_b = JobFactory(photo__product__organization=b)
    video_b = Video.objects.create(
        organization=b,
        job=job_b,
        attempt=1,
        file="x.mp4",
        poster="x.jpg",
        width=640,
        height=640,
        fps=16,
        frames=17,
        duration_seconds=1.0,
    )

    assert list(selectors.products_for(a)) == [job_a.photo.product]
    assert list(selectors.photos_for(a)) == [job_a.photo]
    assert list(selectors.batches_for(a)) == [job_a.batch]
    assert list(selectors.jobs_for(a)) == [job_a]
    assert list(selectors.videos_for(a)) == []
    assert list(selectors.videos_for(b)) == [video_b]
    for get, row in [
        (selectors.get_product, job_b.photo.product),
        (selectors.get_photo, job_b.photo),
        (selectors.get_batch, job_b.batch),
        (selectors.get_job, job_b),
        (selectors.get_video, video_b),
    ]:
        with pytest.raises(Http404):
            get(a, row.pk)
        assert get(b, row.pk).pk == row.pk
    with pytest.raises(Http404):
        selectors.get_job(a, "not-a-number")


def test_batches_are_annotated_with_counts_per_state_and_progress():
    org = OrganizationFactory()
    batch = BatchFactory(organization=org)
    photo = PhotoFactory(product__organization=org)
    for state, progress in [("queued", 0.0), ("running", 0.5), ("succeeded", 1.0), ("failed", 0.3)]:
        JobFactory(batch=batch, photo=photo, state=state, progress=progress)

    row = selectors.get_batch(org, batch.pk)
    assert (row.job_count, row.queued_count, row.running_count, row.succeeded_count, row.failed_count) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert row.canceled_count == 0
    assert row.progress == pytest.approx((0 + 0.5 + 1 + 1) / 4)


def test_cancel_retry_and_cancel_batch():
    job = JobFactory()
    assert services.cancel_job(job=job).state == Job.State.CANCELED
    assert services.cancel_job(job=job).state == Job.State.CANCELED  # idempotent
    done = JobFactory(state=Job.State.SUCCEEDED, progress=1.0)
    assert services.cancel_job(job=done).state == Job.State.SUCCEEDED  # a finished job stays finished
    with pytest.raises(services.JobNotRetryable):
        services.retry_job(job=done)

    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, attempt=3, error_code="internal_error")
    retried = services.retry_job(job=job)
    assert (retried.state, retried.attempt, retried.max_attempts, retried.error_code) == ("queued", 3, 6, "")

    batch = BatchFactory(organization=job.organization)
    for state in ["queued", "running", "succeeded"]:
        JobFactory(batch=batch, photo=job.photo, state=state)
    assert services.cancel_batch(batch=batch) == 2
    assert sorted(batch.jobs.values_list("state", flat=True)) == ["canceled", "canceled", "succeeded"]


def _stored_attempts(job: Job) -> list[str]:
    prefix = f"orgs/{job.organization_id}/videos/job-{job.pk}"
    return sorted(default_storage.listdir(prefix)[0]) if default_storage.exists(prefix) else []


def test_a_late_commit_of_a_superseded_attempt_is_refused_and_its_files_removed(media_root, settings, broker):
    settings.SHOPVIDEO_QA_MIN_PSNR = settings.SHOPVIDEO_QA_MIN_SSIM = 0  # job mechanics, not QA margins
    job = JobFactory(seconds=1, dispatched_at=timezone.now())
    # Attempt 1 claims the job and renders, then its worker stalls (no heartbeat) ...
    assert services.claim_job(job_id=job.pk, worker_name="stalled") == 1
    job.refresh_from_db()
    stalled = services.ProgressReporter(job.pk, 1)
    result_1 = services.render_job(job, media_root.parent / "w1", stalled)
    # ... the reaper hands the job to attempt 2, which finishes and commits first.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert Job.objects.filter(pk=job.pk, attempt=1, state="running").update(
        state="queued", dispatched_at=timezone.now()
    )
    assert services.claim_job(job_id=job.pk, worker_name="fresh") == 2
    job.refresh_from_db()
    result_2 = services.render_job(job, media_root.parent / "w2", services.ProgressReporter(job.pk, 2))
    assert services.commit_result(job, 2, result_2) is True

    # The stalled attempt wakes up: its progress is refused, and so is its commit.
    with pytest.raises(JobCanceled):
        stalled("render", 0.9)
    assert services.commit_result(job, 1, result_1) is False

    job.refresh_from_db()
    assert (job.state, job.attempt) == ("succeeded", 2)
    assert list(Video.objects.filter(job=job).values_list("attempt", flat=True)) == [2]
    assert _stored_attempts(job) == ["attempt-2"]  # attempt 1 uploaded its files and removed them again


def test_the_reaper_requeues_stale_jobs_fails_exhausted_ones_and_leaves_live_ones(settings, broker):
    settings.SHOPVIDEO_HEARTBEAT_STALE_SECONDS = 30
    broker.client.flushdb()
    old = timezone.now() - timedelta(seconds=31)
    lost = JobFactory(state="running", attempt=1, heartbeat_at=old, dispatched_at=old)
    exhausted = JobFactory(state="running", attempt=3, max_attempts=3, heartbeat_at=old, dispatched_at=old)
    alive = JobFactory(state="running", attempt=1, heartbeat_at=timezone.now(), dispatched_at=old)

    report = services.reap_jobs()

    assert report.requeued == [lost.pk] and report.failed == [exhausted.pk]
    lost.refresh_from_db(), exhausted.refresh_from_db(), alive.refresh_from_db()
    assert (lost.state, lost.attempt) == ("queued", 1) and lost.dispatched_at is not None
    assert (exhausted.state, exhausted.error_code) == ("failed", "worker_lost")
    assert alive.state == "running"
    assert broker.queued_job_ids() == [lost.pk]  # re-sent to the broker at once


def test_the_reaper_resends_queued_jobs_the_broker_may_have_lost(settings, broker):
    settings.SHOPVIDEO_QUEUED_RESEND_SECONDS = 60
    broker.client.flushdb()
    long_ago = timezone.now() - timedelta(seconds=61)
    forgotten = JobFactory(dispatched_at=long_ago)
    recent = JobFactory(dispatched_at=timezone.now())

    report = services.reap_jobs()

    assert report.resent == [forgotten.pk]
    assert broker.queued_job_ids() == [forgotten.pk]
    recent.refresh_from_db()
    assert recent.state == "queued"


def test_a_video_below_the_qa_threshold_is_kept_for_review_not_delivered(settings, media_root):
    settings.SHOPVIDEO_QA_MIN_PSNR = 99.5  # no encoded video reaches this
    job = JobFactory(seconds=1, dispatched_at=timezone.now())

    services.execute_job(job_id=job.pk, worker_name="test")

    job.refresh_from_db()
    assert (job.state, job.error_code, job.attempt) == ("failed", "qa_failed", 1)
    video = Video.objects.get(job=job)
    assert video.review == Video.Review.NEEDS_REVIEW and not video.qa_passed
    assert default_storage.exists(video.file.name)


def test_bad_input_fails_the_job_with_its_code_and_is_not_retried(media_root):
    job = JobFactory(seconds=1, dispatched_at=timezone.now())
    with default_storage.open(job.photo.file.name, "wb") as fh:
        fh.write(b"this is not an image any more")

    services.execute_job(job_id=job.pk, worker_name="test")

    job.refresh_from_db()
    assert (job.state, job.error_code, job.attempt) == ("failed", "not_an_image", 1)
    assert job.error_message
    assert not Video.objects.filter(job=job).exists()


def test_a_canceled_job_is_not_claimed():
    job = JobFactory()
    services.cancel_job(job=job)
    services.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert (job.state, job.attempt) == ("canceled", 0)
