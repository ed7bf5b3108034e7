"""Signing, sending and recording one delivery, against a real HTTP receiver on localhost."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from shop_video.webhooks import services
from shop_video.webhooks.models import WebhookDelivery
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _endpoint(receiver, **kwargs):
    return services.create_endpoint(organization=OrganizationFactory(), url=receiver.url, **kwargs)


def _queue(endpoint, event_type="job.succeeded", data=None, key="k1") -> WebhookDelivery:
    event_id = services.event_id_for(endpoint.organization_id, key)
    payload = services.build_payload(event_type, data or {"id": 1, "state": "succeeded"})
    [delivery] = services.create_deliveries(endpoint.organization_id, event_type, event_id, payload)
    return delivery


def test_a_delivery_is_signed_in_the_standard_webhooks_format(receiver, allow_localhost):
    endpoint = _endpoint(receiver)
    assert endpoint.secret.startswith("whsec_")
    delivery = _queue(endpoint, data={"id": 42, "state": "succeeded"})

    outcome = services.deliver(delivery.pk)

    assert outcome.status == "succeeded"
    [request] = receiver.requests
    # The receiver verifies with the reference library: id, timestamp and HMAC over "{id}.{timestamp}.{body}".
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "job.succeeded"
    assert payload["data"] == {"id": 42, "state": "succeeded"}
    assert payload["timestamp"].endswith("Z")
    assert request.headers["webhook-id"] == delivery.event_id
    assert request.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(services.generate_secret()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"42", b"43"), request.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert delivery.response_body == "ok" and delivery.delivered_at is not None


def test_a_non_2xx_answer_schedules_a_retry_with_backoff(receiver, allow_localhost):
    allow_localhost.SHOPVIDEO_WEBHOOK_BACKOFF_SECONDS = 5.0
    receiver.script = [(500, b"boom")]
    delivery = _queue(_endpoint(receiver))
    outcome = services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert outcome.retry_in == pytest.approx(5.0)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert "500" in delivery.error and delivery.response_body == "boom"
    # Not due yet: a duplicate message does nothing.
    assert services.deliver(delivery.pk).attempted is False
    assert services.backoff_seconds(1) < services.backoff_seconds(2) < services.backoff_seconds(3)


def test_redirects_are_not_followed(receiver, allow_localhost):
    receiver.script = [(302, b"")]
    delivery = _queue(_endpoint(receiver))
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert len(receiver.requests) == 1
    assert delivery.response_code == 302 and "redirect" in delivery.error


def test_a_slow_receiver_times_out(receiver, allow_localhost):
    allow_localhost.SHOPVIDEO_WEBHOOK_READ_TIMEOUT = 0.3
    receiver.script = [("sleep", 1.0)]
    delivery = _queue(_endpoint(receiver))
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.response_code is None and "no response in time" in delivery.error


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://example.com/hook", "https_required"),
        ("ftp://example.com/hook", "https_required"),
        ("https://127.0.0.1/hook", "private_address"),
        ("https://10.0.0.5/hook", "private_address"),
        ("https://169.254.169.254/latest/meta-data/", "private_address"),
        ("https://[::1]/hook", "private_address"),
        ("https://[::ffff:192.168.0.1]/hook", "private_address"),
        ("https://localhost/hook", "private_address"),
        ("https://user:pw@example.com/hook", "invalid_url"),
    ],
)
def test_endpoints_must_be_public_https(url, code):
    with pytest.raises(services.WebhookError) as info:
        services.create_endpoint(organization=OrganizationFactory(), url=url)
    assert info.value.code == code and "url" in info.value.fields


def test_names_that_resolve_to_private_addresses_are_refused_at_send_time(receiver, allow_localhost, monkeypatch):
    endpoint = _endpoint(receiver)
    # A public-looking name whose DNS answer is the metadata service (rebinding): refused, never retried.
    endpoint.url = "https://hooks.example.com/x"
    endpoint.save()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("169.254.169.254", 443))])
    delivery = _queue(endpoint)
    outcome = services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert outcome.status == "failed" and outcome.retry_in is None
    assert delivery.error.startswith("private_address")


def test_the_test_allowlist_is_ignored_outside_the_test_settings(receiver, allow_localhost, monkeypatch):
    endpoint = _endpoint(receiver)
    delivery = _queue(endpoint)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "shop_video.settings")
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.status == "failed" and delivery.error.startswith("https_required")


def test_production_settings_refuse_to_start_with_the_test_allowlist():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_video.settings",
        "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST": "127.0.0.1",
        "SHOPVIDEO_VAR_DIR": os.environ.get("SHOPVIDEO_VAR_DIR", str(ROOT / "var")),
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST is for the test settings only" in proc.stderr


def test_emit_is_idempotent_per_key_and_skips_unsubscribed_endpoints(
    receiver, allow_localhost, broker, django_capture_on_commit_callbacks
):
    subscribed = _endpoint(receiver, events=["job.failed"])
    services.create_endpoint(organization=subscribed.organization, url=receiver.url, events=["credits.low"])
    with django_capture_on_commit_callbacks(execute=True):
        services.emit("job.failed", subscribed.organization, {"id": 1}, key="job.failed:1:1")
        services.emit("job.failed", subscribed.organization, {"id": 1}, key="job.failed:1:1")
    rows = list(WebhookDelivery.objects.filter(organization=subscribed.organization))
    assert [(r.endpoint_id, r.event_type) for r in rows] == [(subscribed.pk, "job.failed")]
    assert rows[0].payload["data"] == {"id": 1}


def test_emit_in_a_rolled_back_transaction_creates_nothing(
    receiver, allow_localhost, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(receiver)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.emit("credits.low", endpoint.organization, {"available": 3})
    # The callbacks never run when the transaction rolls back: nothing was created before commit.
    assert len(callbacks) == 1
    assert not WebhookDelivery.objects.exists()


def test_replay_sends_the_same_event_again(receiver, allow_localhost, broker, django_capture_on_commit_callbacks):
    endpoint = _endpoint(receiver)
    original = _queue(endpoint, data={"id": 7})
    services.deliver(original.pk)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.replay(delivery=original)
    services.deliver(again.pk)
    again.refresh_from_db()
    assert again.pk != original.pk and again.replay_of_id == original.pk
    assert (again.event_id, again.payload, again.status) == (original.event_id, original.payload, "succeeded")
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == original.event_id
    assert json.loads(first.body) == json.loads(second.body)
    Webhook(endpoint.secret).verify(second.body, second.headers)
