"""The credit ledger and the job lifecycle: reserve on submit, capture on success, release on failure, QA failure,
cancel and a worker lost beyond its retries; 402 / insufficient_credits with nothing created; grant_credits."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import selectors, services
from billing.models import CreditAccount, JobCharge, LedgerEntry
from generation import services as jobs
from generation.models import Batch, Job
from tests.factories import OrganizationFactory, PhotoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("presets")]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"


def submit(org, seconds=(5,), photos=None, **kw):
    photos = photos or [PhotoFactory(product__organization=org)]
    matrix = jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=list(seconds), seed=3, **kw)
    return jobs.submit_batch(organization=org, photos=photos, matrix=matrix)


def totals(org) -> tuple[int, int, int]:
    c = selectors.credits_for(org)
    assert selectors.ledger_sums(org) == c  # the ledger always sums to the running totals
    return c.balance, c.reserved, c.available


def kinds(org, job) -> list[str]:
    return list(LedgerEntry.objects.filter(organization=org, job=job).order_by("id").values_list("kind", flat=True))


def test_submit_reserves_each_jobs_price_and_the_api_shape():
    org = OrganizationFactory(credits=100)
    batch = submit(org, seconds=(5, 10))  # 1 credit/s at 480p compositor: 5 + 10
    assert totals(org) == (100, 15, 85)
    assert sorted(JobCharge.objects.filter(job__batch=batch).values_list("credits", "state")) == [
        (5, "reserved"),
        (10, "reserved"),
    ]
    assert selectors.credits_for(org).as_dict() == {"balance": 100, "reserved": 15, "available": 85}


def test_insufficient_credits_creates_nothing_and_carries_402():
    org = OrganizationFactory(credits=9)
    photo = PhotoFactory(product__organization=org)
    with pytest.raises(services.InsufficientCredits) as info:
        submit(org, seconds=(5, 10), photos=[photo])
    assert (info.value.code, info.value.status_code, info.value.required, info.value.available) == (
        "insufficient_credits",
        402,
        15,
        9,
    )
    assert "15" in info.value.message and "9" in info.value.message
    assert not Batch.objects.filter(organization=org).exists() and not Job.objects.filter(organization=org).exists()
    assert totals(org) == (9, 0, 9)
    # Exactly affordable is accepted.
    submit(org, seconds=(9,), photos=[photo])
    assert totals(org) == (9, 9, 0)


def test_an_organization_without_any_credits_cannot_submit():
    org = OrganizationFactory(credits=0)
    with pytest.raises(services.InsufficientCredits):
        submit(org)
    assert not Job.objects.filter(organization=org).exists()


def test_success_captures_once(settings, media):
    settings.SHOPVIDEO_QA_MIN_PSNR = settings.SHOPVIDEO_QA_MIN_SSIM = 0  # job mechanics, not QA margins
    org = OrganizationFactory(credits=20)
    job = submit(org, seconds=(1,)).jobs.get()
    jobs.execute_job(job_id=job.pk, worker_name="test")
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert totals(org) == (19, 0, 19)
    assert kinds(org, job) == ["reserve", "capture"]
    # A late duplicate settle (e.g. cancel_batch racing the worker) changes nothing.
    with transaction.atomic():
        services.settle_jobs({job.pk: True})
    jobs.cancel_job(job=job)
    assert totals(org) == (19, 0, 19)


def test_qa_failure_releases(settings, media):
    settings.SHOPVIDEO_QA_MIN_PSNR = 99.5  # no encoded video reaches this
    org = OrganizationFactory(credits=20)
    job = submit(org, seconds=(1,)).jobs.get()
    jobs.execute_job(job_id=job.pk, worker_name="test")
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "qa_failed")
    assert totals(org) == (20, 0, 20)
    assert kinds(org, job) == ["reserve", "release"]


def test_failure_releases_and_retry_reserves_a_new_round(media):
    org = OrganizationFactory(credits=20)
    job = submit(org, seconds=(3,)).jobs.get()
    attempt = jobs.claim_job(job_id=job.pk, worker_name="w")
    assert jobs._fail(job.pk, attempt, "internal_error", "boom")
    assert jobs._fail(job.pk, attempt, "internal_error", "boom") is False  # fenced: once
    assert totals(org) == (20, 0, 20)
    jobs.retry_job(job=job)
    assert totals(org) == (20, 3, 17)
    assert JobCharge.objects.get(job=job).round == 2
    assert kinds(org, job) == ["reserve", "release", "reserve"]


def test_retry_without_credits_is_refused_and_the_job_stays_failed(media):
    org = OrganizationFactory(credits=5)
    job = submit(org, seconds=(5,)).jobs.get()
    jobs.cancel_job(job=job)
    services.debit_adjustment(organization=org, credits=3, reason="support correction")
    with pytest.raises(services.InsufficientCredits):
        jobs.retry_job(job=job)
    job.refresh_from_db()
    assert job.state == "canceled"
    assert totals(org) == (2, 0, 2)


def test_cancel_releases_for_a_job_and_a_batch():
    org = OrganizationFactory(credits=50)
    batch = submit(org, seconds=(5, 10, 15))
    first = batch.jobs.order_by("id").first()
    jobs.cancel_job(job=first)
    assert totals(org) == (50, 25, 25)
    assert jobs.cancel_batch(batch=batch) == 2
    assert totals(org) == (50, 0, 50)
    assert LedgerEntry.objects.filter(organization=org, kind="release").count() == 3


def test_a_worker_lost_beyond_its_retries_releases_and_a_requeue_keeps_the_reservation(settings):
    settings.SHOPVIDEO_HEARTBEAT_STALE_SECONDS = 30
    org = OrganizationFactory(credits=50)
    batch = submit(org, seconds=(5, 7))
    lost, exhausted = batch.jobs.order_by("seconds")
    old = timezone.now() - timedelta(seconds=31)
    Job.objects.filter(pk=lost.pk).update(state="running", attempt=1, heartbeat_at=old, dispatched_at=old)
    Job.objects.filter(pk=exhausted.pk).update(
        state="running", attempt=3, max_attempts=3, heartbeat_at=old, dispatched_at=old
    )
    report = jobs.reap_jobs()
    assert report.failed == [exhausted.pk] and report.requeued == [lost.pk]
    assert totals(org) == (50, 5, 45)  # the requeued job still holds its 5; the lost one's 7 are released
    assert kinds(org, exhausted) == ["reserve", "release"]
    assert kinds(org, lost) == ["reserve"]


def test_the_database_refuses_a_negative_balance_or_over_reservation():
    org = OrganizationFactory(credits=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(organization=org).update(reserved=11)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(organization=org).update(balance=-1, reserved=0)
    assert totals(org) == (10, 0, 10)


def test_grants_need_positive_whole_credits():
    org = OrganizationFactory(credits=0)
    for bad in (0, -5, 2.5, True, "7"):
        with pytest.raises(services.BillingError) as info:
            services.grant_credits(organization=org, credits=bad, reason="x")
        assert info.value.code == "invalid_credits"
    assert totals(org) == (0, 0, 0) and not LedgerEntry.objects.filter(organization=org).exists()


def test_grant_credits_command():
    org = OrganizationFactory(credits=0, slug="acme")
    out = StringIO()
    call_command("grant_credits", "--org", "acme", "250", "--reason", "Goodwill for ticket 42", stdout=out)
    assert "250" in out.getvalue()
    entry = LedgerEntry.objects.get(organization=org)
    assert (entry.kind, entry.credits, entry.reason) == ("grant", 250, "Goodwill for ticket 42")
    call_command("grant_credits", "--org", "acme", "5", stdout=StringIO())
    assert totals(org) == (255, 0, 255)
    assert LedgerEntry.objects.filter(organization=org).count() == 2
    for args, message in (
        (["--org", "nope", "5"], "No organization"),
        (["--org", "acme", "0"], "positive"),
        (["--org", "acme", "-3"], "positive"),
        (["--org", "acme", "1.5"], "positive"),
        (["--org", "acme", "ten"], "positive"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("grant_credits", *args, stdout=StringIO())
    assert totals(org) == (255, 0, 255)


def test_demo_credits_top_up_once():
    org = OrganizationFactory(credits=0)
    services.grant_demo_credits(org)
    services.grant_demo_credits(org)
    b, _r, _a = totals(org)
    from django.conf import settings

    assert b == settings.SHOPVIDEO_DEMO_CREDITS


def test_seed_demo_grants_demo_credits_once(settings, media):
    from generation.management.commands.seed_demo import seed_demo

    first = seed_demo()
    second = seed_demo()
    assert "demo credits" in first.created and "demo credits" not in second.created
    assert selectors.credits_for(first.organization).available == settings.SHOPVIDEO_DEMO_CREDITS


def test_a_new_sign_up_gets_the_small_free_grant_once_its_email_is_confirmed(settings):
    from shop_video.merchants.signup import register, verify_email

    settings.SHOPVIDEO_SIGNUP_CREDITS = 30
    signed_up = register(email="New@Example.com", password="a-long-password-1", organization_name="New Shop")
    org = signed_up.organization
    assert totals(org) == (0, 0, 0)
    verify_email(signed_up.token)
    assert totals(org) == (30, 0, 30)
    assert LedgerEntry.objects.get(organization=org).kind == "grant"
