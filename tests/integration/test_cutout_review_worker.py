"""A job on a photo whose cutout is doubtful is rendered by a real worker and held for review: not delivered, not
charged, until the merchant approves the video."""

from __future__ import annotations

import pytest

from billing import selectors as billing_selectors
from generation import services
from generation.models import Job, Video
from shop_video.dashboard import services as dashboard_services
from tests.factories import OrganizationFactory, PhotoFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MECHANICS = {"SHOPVIDEO_QA_MIN_PSNR": "0", "SHOPVIDEO_QA_MIN_SSIM": "0"}  # the hold must come from the cutout


def test_a_doubtful_cutout_is_rendered_held_for_review_and_charged_only_on_approval(start_worker):
    start_worker(MECHANICS)
    org = OrganizationFactory()
    photo = PhotoFactory(product__organization=org, cutout_confidence=0.41, cutout_needs_review=True)
    balance = billing_selectors.credits_for(org).balance
    matrix = services.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=3)
    job = services.submit_batch(organization=org, photos=[photo], matrix=matrix, source="api").jobs.get()

    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 120, 0.3, "the job to finish")

    job.refresh_from_db()
    assert (job.state, job.error_code) == (Job.State.FAILED, "cutout_needs_review"), job.error_message
    video = Video.objects.get(job=job)
    assert video.review == Video.Review.NEEDS_REVIEW and not video.qa_passed
    assert video.metadata["cutout"] == {"method": "alpha", "confidence": 0.41, "needs_review": True}
    credits = billing_selectors.credits_for(org)
    assert (credits.balance, credits.reserved) == (balance, 0)  # nothing charged, the reservation released

    charged = dashboard_services.approve_video(video=video)

    assert charged == job.credits
    assert billing_selectors.credits_for(org).balance == balance - job.credits
