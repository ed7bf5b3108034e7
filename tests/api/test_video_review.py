"""POST /api/v1/videos/{id}/approve and /reject: what a shop platform needs to act on the review queue. Approving a
video QA held back delivers it and charges it then (once); without the credits, 402 and nothing changes."""

from __future__ import annotations

import pytest

from billing import selectors as billing_selectors
from billing.models import LedgerEntry
from generation import services as jobs
from generation.models import Video
from shop_video.merchants.api_keys import create_api_key
from tests.api.conftest import client_for
from tests.factories import OrganizationFactory, PhotoFactory, ensure_presets

pytestmark = pytest.mark.django_db


def made_video(settings, credits: int, *, qa_passes: bool = False):
    """(api client, video) of a real job: held back for review (its QA fails, nothing charged), or delivered."""
    ensure_presets()
    org = OrganizationFactory(credits=credits)
    if not qa_passes:
        settings.SHOPVIDEO_QA_MIN_PSNR = 99.5  # no encoded video reaches this
    photo = PhotoFactory(product__organization=org)
    matrix = jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=3)
    job = jobs.submit_batch(organization=org, photos=[photo], matrix=matrix, source="api").jobs.get()
    jobs.execute_job(job_id=job.pk, worker_name="test")
    video = Video.objects.get(job=job)
    assert video.review == (Video.Review.READY if qa_passes else Video.Review.NEEDS_REVIEW)
    return client_for(create_api_key(organization=org, name="platform")[1]), video


def available(org) -> int:
    return billing_selectors.credits_for(org).available


def test_approving_a_held_back_video_delivers_and_charges_it_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    api, video = made_video(settings, credits=10)
    url = f"/api/v1/videos/{video.pk}"
    before = api.get(url).json()
    assert (before["review"], before["delivered"], before["download_url"]) == ("needs_review", False, None)
    assert available(video.organization) == 10

    approved = api.post(f"{url}/approve")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["review"] == "approved" and body["delivered"] is True and body["download_url"]
    assert available(video.organization) == 9
    assert api.post(f"{url}/approve").status_code == 200  # again: nothing more
    assert available(video.organization) == 9
    captures = LedgerEntry.objects.filter(job=video.job, kind=LedgerEntry.Kind.CAPTURE)
    assert captures.count() == 1


def test_approving_without_the_credits_is_a_402_and_changes_nothing(settings, tmp_path):
    from billing import services as billing_services

    settings.MEDIA_ROOT = tmp_path
    api, video = made_video(settings, credits=1)
    billing_services.debit_adjustment(organization=video.organization, credits=1, reason="spent")
    response = api.post(f"/api/v1/videos/{video.pk}/approve")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    video.refresh_from_db()
    assert video.review == Video.Review.NEEDS_REVIEW and available(video.organization) == 0


def test_reject_needs_a_reason_and_stops_delivery(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SHOPVIDEO_QA_MIN_PSNR = settings.SHOPVIDEO_QA_MIN_SSIM = 0
    api, video = made_video(settings, credits=10, qa_passes=True)
    url = f"/api/v1/videos/{video.pk}/reject"
    missing = api.post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"], missing.json()
    rejected = api.post(url, {"reason": "The label is cut off"}, format="json")
    assert rejected.status_code == 200
    body = rejected.json()
    assert body["review"] == "rejected" and body["delivered"] is False and body["download_url"] is None
    video.refresh_from_db()
    assert video.review_note == "The label is cut off"


def test_another_organizations_key_gets_404_and_changes_nothing(settings, tmp_path, other_api):
    settings.MEDIA_ROOT = tmp_path
    _api, video = made_video(settings, credits=10)
    assert other_api.post(f"/api/v1/videos/{video.pk}/approve").status_code == 404
    assert other_api.post(f"/api/v1/videos/{video.pk}/reject", {"reason": "x"}, format="json").status_code == 404
    video.refresh_from_db()
    assert video.review == Video.Review.NEEDS_REVIEW and available(video.organization) == 10
