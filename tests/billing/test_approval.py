"""A video that QA held back is not charged; approving it delivers it, and that is when its credits are charged:
once, in the ledger's own terms (a new round: reserve + capture), and never without the credits to pay for it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from billing import selectors, services
from billing.models import JobCharge, LedgerEntry
from generation import services as jobs
from generation.models import Video
from generation.services import review as review_services
from tests.factories import MembershipFactory, PhotoFactory

pytestmark = [pytest.mark.usefixtures("presets")]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"


def held_back_video(member, settings) -> Video:
    """A real job run through the pipeline whose QA fails: a Video kept for review, the reservation released."""
    org = member.organization
    settings.SHOPVIDEO_QA_MIN_PSNR = 99.5  # no encoded video reaches this
    photo = PhotoFactory(product__organization=org)
    matrix = jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=3)
    job = jobs.submit_batch(organization=org, photos=[photo], matrix=matrix).jobs.get()
    jobs.execute_job(job_id=job.pk, worker_name="test")
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "qa_failed")
    return Video.objects.get(job=job)


def totals(org) -> tuple[int, int, int]:
    c = selectors.credits_for(org)
    assert selectors.ledger_sums(org) == c
    return c.balance, c.reserved, c.available


def kinds(job) -> list[tuple[str, int]]:
    return list(LedgerEntry.objects.filter(job=job).order_by("id").values_list("kind", "job_round"))


@pytest.mark.django_db
def test_approving_a_held_back_video_charges_it_once(client, settings, media):
    member = MembershipFactory(organization__credits=10)
    video = held_back_video(member, settings)
    org, job = member.organization, video.job
    assert video.review == Video.Review.NEEDS_REVIEW
    assert totals(org) == (10, 0, 10)  # held back: nothing charged
    client.force_login(member.user)

    page = client.get(reverse("dashboard:video_detail", args=[video.pk])).content.decode()
    assert "Approve and deliver · 1 credit" in page  # the price is on the button

    response = client.post(reverse("dashboard:video_approve", args=[video.pk]), follow=True)
    assert "Video approved and delivered: 1 credit charged." in response.content.decode()
    video.refresh_from_db()
    assert video.review == Video.Review.APPROVED
    assert totals(org) == (9, 0, 9)
    assert kinds(job) == [("reserve", 1), ("release", 1), ("reserve", 2), ("capture", 2)]
    assert JobCharge.objects.get(job=job).state == JobCharge.State.CAPTURED

    # Approving again (a second tab, a replayed form) charges nothing more.
    client.post(reverse("dashboard:video_approve", args=[video.pk]))
    assert totals(org) == (9, 0, 9)
    assert len(kinds(job)) == 4


@pytest.mark.django_db
def test_an_approval_that_cannot_be_paid_changes_nothing(client, settings, media):
    member = MembershipFactory(organization__credits=1)
    video = held_back_video(member, settings)
    org = member.organization
    services.debit_adjustment(organization=org, credits=1, reason="spent elsewhere")
    assert totals(org) == (0, 0, 0)
    client.force_login(member.user)
    response = client.post(reverse("dashboard:video_approve", args=[video.pk]), follow=True)
    body = response.content.decode()
    assert "Not enough credits" in body and "Buy credits, then approve the video again." in body
    video.refresh_from_db()
    assert video.review == Video.Review.NEEDS_REVIEW
    assert totals(org) == (0, 0, 0)
    assert JobCharge.objects.get(job=video.job).state == JobCharge.State.RELEASED


@pytest.mark.django_db
def test_approving_a_delivered_video_charges_nothing(settings, media):
    member = MembershipFactory(organization__credits=5)
    settings.SHOPVIDEO_QA_MIN_PSNR = settings.SHOPVIDEO_QA_MIN_SSIM = 0
    org = member.organization
    matrix = jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=3)
    job = jobs.submit_batch(
        organization=org, photos=[PhotoFactory(product__organization=org)], matrix=matrix
    ).jobs.get()
    jobs.execute_job(job_id=job.pk, worker_name="test")
    video = Video.objects.get(job=job)
    assert video.review == Video.Review.READY and totals(org) == (4, 0, 4)
    assert review_services.approve_video(video=video) == 0
    assert totals(org) == (4, 0, 4)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_charge_once(settings, media):
    member = MembershipFactory(organization__credits=10)
    video = held_back_video(member, settings)
    start = threading.Barrier(4)
    results: list[int] = []

    def approve() -> None:
        try:
            start.wait()
            results.append(review_services.approve_video(video=Video.objects.get(pk=video.pk)))
        finally:
            connection.close()  # the thread's own connection: the test database is dropped after the test

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [0, 0, 0, 1]
    assert totals(member.organization) == (9, 0, 9)
