"""Events fire from the real job path: generation.services.execute_job → job_finished (after commit) → deliveries."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from standardwebhooks import Webhook

from generation import services as generation_services
from generation.models import Job
from shop_video.webhooks import services
from shop_video.webhooks.models import WebhookDelivery
from tests.factories import BatchFactory, JobFactory, OrganizationFactory, PhotoFactory, ensure_presets

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def org_with_endpoint(receiver, allow_localhost, clean_broker):
    ensure_presets()
    org = OrganizationFactory()
    endpoint = services.create_endpoint(organization=org, url=receiver.url)
    return org, endpoint


def _broken_photo(org):
    photo = PhotoFactory(product__organization=org)
    photo.file.save("broken.png", ContentFile(b"this is not an image"), save=True)
    return photo


def test_a_job_that_succeeds_produces_job_succeeded(org_with_endpoint, receiver):
    org, endpoint = org_with_endpoint
    job = JobFactory(photo=PhotoFactory(product__organization=org))

    generation_services.execute_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="job.succeeded")
    assert services.deliver(delivery.pk).status == "succeeded"
    payload = Webhook(endpoint.secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert payload["type"] == "job.succeeded"
    data = payload["data"]
    assert (data["id"], data["state"], data["batch"], data["market"]) == (job.pk, "succeeded", job.batch_id, "us")
    assert data["product"]["sku"] == job.photo.product.sku
    assert data["video"]["id"] == job.video.pk and data["video"]["qa"]["passed"] is True
    assert data["video"]["width"] == 640 and data["error"] is None
    # The only job of its batch: the batch is complete too.
    batch_event = WebhookDelivery.objects.get(endpoint=endpoint, event_type="batch.completed")
    assert batch_event.payload["data"]["succeeded"] == 1 and batch_event.payload["data"]["jobs"] == 1


def test_a_job_that_fails_produces_job_failed(org_with_endpoint):
    org, endpoint = org_with_endpoint
    job = JobFactory(photo=_broken_photo(org))

    generation_services.execute_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="job.failed")
    assert delivery.payload["data"]["error"]["code"] == job.error_code != ""
    assert delivery.payload["data"]["video"] is None


def test_batch_completed_fires_once_when_the_last_job_is_final(org_with_endpoint):
    org, endpoint = org_with_endpoint
    batch = BatchFactory(organization=org)
    photo = _broken_photo(org)
    first, second = JobFactory(photo=photo, batch=batch), JobFactory(photo=photo, batch=batch, aspect_ratio="9:16")

    generation_services.execute_job(job_id=first.pk)
    assert not WebhookDelivery.objects.filter(event_type="batch.completed").exists()

    generation_services.execute_job(job_id=second.pk)
    [completed] = WebhookDelivery.objects.filter(endpoint=endpoint, event_type="batch.completed")
    assert completed.payload["data"] == {
        **completed.payload["data"],
        "id": batch.pk,
        "jobs": 2,
        "failed": 2,
        "succeeded": 0,
        "canceled": 0,
    }
    # The finished signal for the same final state again (a second worker): still one event.
    from shop_video.webhooks import events

    events.emit_batch_completed_if_done(batch)
    assert WebhookDelivery.objects.filter(event_type="batch.completed").count() == 1
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event_type="job.failed").count() == 2


def test_another_organizations_jobs_do_not_reach_this_endpoint(org_with_endpoint):
    _org, endpoint = org_with_endpoint
    other = OrganizationFactory()
    job = JobFactory(photo=_broken_photo(other))
    generation_services.execute_job(job_id=job.pk)
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()


def test_credits_low_fires_once_when_a_reservation_crosses_the_threshold(org_with_endpoint, settings, receiver):
    settings.SHOPVIDEO_CREDITS_LOW = 50
    _, endpoint = org_with_endpoint
    org = OrganizationFactory(credits=60)
    low_endpoint = services.create_endpoint(organization=org, url=receiver.url, events=["credits.low"])
    photo = PhotoFactory(product__organization=org)
    matrix = generation_services.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[5])  # 5 credits

    generation_services.submit_batch(organization=org, user=None, photos=[photo], matrix=matrix)  # 60 → 55
    assert not WebhookDelivery.objects.filter(event_type="credits.low").exists()
    generation_services.submit_batch(organization=org, user=None, photos=[photo], matrix=matrix)  # 55 → 50
    generation_services.submit_batch(organization=org, user=None, photos=[photo], matrix=matrix)  # 50 → 45: below
    generation_services.submit_batch(organization=org, user=None, photos=[photo], matrix=matrix)  # 45 → 40

    delivery = WebhookDelivery.objects.get(event_type="credits.low")  # once, for this organization only
    assert delivery.endpoint == low_endpoint != endpoint
    assert delivery.payload["data"] == {"balance": 60, "reserved": 15, "available": 45, "threshold": 50}
    assert services.deliver(delivery.pk).status == "succeeded"
    assert Webhook(low_endpoint.secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)["type"] == (
        "credits.low"
    )
