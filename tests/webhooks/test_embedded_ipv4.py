"""Webhook URLs whose address carries a loopback IPv4 address (6to4, NAT64 and the other embedded forms) are
refused when registered and never connected to when delivering, like the image fetcher refuses them: both go
through shop_video.outbound."""

from __future__ import annotations

import socket

import pytest
import urllib3

from shop_video.webhooks import services
from shop_video.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import OrganizationFactory
from tests.webhooks.test_api import _client

pytestmark = pytest.mark.django_db

PROBE_URLS = ["https://[2002:7f00:1::]:8443/h", "https://[64:ff9b::7f00:1]:8443/h"]
OTHER_FORMS = [
    "https://[::127.0.0.1]:8443/h",
    "https://[::ffff:0:7f00:1]:8443/h",
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]:8443/h",
    "https://[2001:4860:1::5efe:7f00:1]:8443/h",
    "https://127.1:8443/h",
    "https://2130706433:8443/h",
]


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def connects(monkeypatch) -> list:
    """Every connection the transport opens (none must be opened here)."""
    opened: list = []

    def record(pool, *args, **kwargs):
        opened.append(pool.host)
        raise urllib3.exceptions.NewConnectionError(pool, "not in tests")

    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", record)
    return opened


@pytest.mark.parametrize("url", PROBE_URLS + OTHER_FORMS)
def test_registering_is_refused_with_a_code(org, url):
    response = _client(org).post("/api/v1/webhook-endpoints", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "private_address" and "url" in error["fields"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", PROBE_URLS)
def test_changing_an_endpoint_to_such_a_url_is_refused(org, url):
    endpoint = services.create_endpoint(organization=org, url="https://shop.example.com/h")
    response = _client(org).patch(f"/api/v1/webhook-endpoints/{endpoint.pk}", {"url": url}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "private_address"
    endpoint.refresh_from_db()
    assert endpoint.url == "https://shop.example.com/h"


def _queue(endpoint) -> WebhookDelivery:
    event_id = services.event_id_for(endpoint.organization_id, "k1")
    payload = services.build_payload("job.succeeded", {"id": 1})
    return services.create_deliveries(endpoint.organization_id, "job.succeeded", event_id, payload)[0]


@pytest.mark.parametrize("url", PROBE_URLS)
def test_a_stored_endpoint_with_such_a_url_is_never_delivered_to(org, url, connects):
    # Registered before the filter knew these forms: saved as it was then, without the service's checks.
    endpoint = WebhookEndpoint.objects.create(
        organization=org, url=url, events=["job.succeeded"], secret=services.generate_secret()
    )
    delivery = _queue(endpoint)
    outcome = services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert connects == []
    assert outcome.status == "failed" and outcome.retry_in is None  # refused for good, not retried
    assert delivery.error.startswith("private_address") and delivery.attempts == 1


@pytest.mark.parametrize("answer", ["2002:7f00:1::", "64:ff9b::7f00:1", "::ffff:0:7f00:1"])
def test_a_name_whose_dns_answer_carries_loopback_is_refused_at_send_time(org, answer, connects, monkeypatch):
    endpoint = services.create_endpoint(organization=org, url="https://hooks.example.com/h")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET6, 1, 6, "", (answer, 443, 0, 0))])
    delivery = _queue(endpoint)
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert connects == []
    assert delivery.status == "failed" and delivery.error.startswith("private_address")
