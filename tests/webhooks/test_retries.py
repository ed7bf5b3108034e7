"""Retries through a real Celery worker process and Redis: exponential backoff, bounded attempts, the log."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from shop_video.webhooks import services
from shop_video.webhooks.models import WebhookDelivery
from tests.factories import OrganizationFactory
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WORKER_ENV = {
    "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST": "127.0.0.1",
    "SHOPVIDEO_WEBHOOK_BACKOFF_SECONDS": "0.4",
    "SHOPVIDEO_WEBHOOK_MAX_ATTEMPTS": "3",
    "SHOPVIDEO_WEBHOOK_READ_TIMEOUT": "2",
}


def _final(delivery_id: int):
    row = WebhookDelivery.objects.get(pk=delivery_id)
    return row if row.status in ("succeeded", "failed") else None


def test_a_receiver_failing_twice_then_succeeding_gets_three_attempts(receiver, allow_localhost, shared_worker):
    receiver.script = [(503, b"busy"), (500, b"oops"), (204, b"")]
    endpoint = services.create_endpoint(organization=OrganizationFactory(), url=receiver.url)
    shared_worker(WORKER_ENV)
    services.emit("credits.low", endpoint.organization, {"available": 12, "threshold": 50}, key="low-1")

    delivery = wait_for(lambda: WebhookDelivery.objects.filter(endpoint=endpoint).first(), 10, what="the delivery")
    delivery = wait_for(lambda: _final(delivery.pk), 60, what="the delivery to finish")

    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("succeeded", 3, 204, "")
    assert len(receiver.requests) == 3
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.event_id}  # one message id across retries, so receivers can deduplicate
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    # Backoff 0.4 s then 0.8 s (Celery countdowns); each gap at least its backoff, the second longer.
    assert gaps[0] >= 0.35 and gaps[1] >= 0.75
    for request in receiver.requests:
        assert Webhook(endpoint.secret).verify(request.body, request.headers)["data"]["available"] == 12


def test_a_receiver_that_always_fails_ends_failed_with_the_last_error(receiver, allow_localhost, shared_worker):
    receiver.script = [(500, b"first"), (502, b"second"), (418, b"last")]
    endpoint = services.create_endpoint(organization=OrganizationFactory(), url=receiver.url)
    shared_worker(WORKER_ENV)
    services.emit("job.failed", endpoint.organization, {"id": 5})

    delivery = wait_for(lambda: WebhookDelivery.objects.filter(endpoint=endpoint).first(), 10, what="the delivery")
    delivery = wait_for(lambda: _final(delivery.pk), 60, what="the delivery to give up")

    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 418)
    assert "418" in delivery.error and delivery.response_body == "last"
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 3
