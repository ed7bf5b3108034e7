"""The webhook API: endpoints (secret shown once), the delivery log, replay; another organization gets 404."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shop_video.merchants.api_keys import create_api_key
from shop_video.webhooks import services
from shop_video.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def _client(org) -> APIClient:
    _key, secret = create_api_key(organization=org, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def api(org):
    return _client(org)


@pytest.fixture
def stranger():
    return _client(OrganizationFactory())


def _delivery(endpoint, key="e1") -> WebhookDelivery:
    event_id = services.event_id_for(endpoint.organization_id, key)
    payload = services.build_payload("job.succeeded", {"id": 1})
    return services.create_deliveries(endpoint.organization_id, "job.succeeded", event_id, payload)[0]


def test_creating_an_endpoint_shows_the_secret_once(api, org):
    response = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://shop.example.com/hooks", "events": ["job.succeeded"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["events"] == ["job.succeeded"] and endpoint.organization == org
    again = api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}").json()
    assert "secret" not in again and again["secret_hint"] == endpoint.secret[:10] + "…"
    listed = api.get("/api/v1/webhook-endpoints").json()
    assert [e["id"] for e in listed["results"]] == [endpoint.pk] and "secret" not in listed["results"][0]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"url": "http://shop.example.com/hooks"}, "https_required", "url"),
        ({"url": "https://169.254.169.254/latest"}, "private_address", "url"),
        ({"url": "https://shop.example.com/h", "events": ["job.exploded"]}, "validation_error", "events"),
        ({"url": "https://shop.example.com/h", "events": []}, "validation_error", "events"),
        ({}, "validation_error", "url"),
    ],
)
def test_invalid_endpoints_get_a_400_with_a_code(api, body, code, field):
    response = api.post("/api/v1/webhook-endpoints", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert any(name.split(".")[0] == field for name in error["fields"]), error
    if code != "validation_error":
        assert error["code"] == code
    assert not WebhookEndpoint.objects.exists()


def test_update_and_delete_an_endpoint(api, org):
    endpoint = services.create_endpoint(organization=org, url="https://shop.example.com/a")
    response = api.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}", {"active": False}, format="json")
    assert response.status_code == 200 and response.json()["active"] is False
    response = api.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}", {"url": "http://x.example"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "https_required"
    assert api.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_lists_filters_and_replays(api, org, broker):
    endpoint = services.create_endpoint(organization=org, url="https://shop.example.com/a")
    delivery = _delivery(endpoint)
    listed = api.get("/api/v1/webhook-deliveries", {"endpoint": endpoint.pk, "status": "pending"}).json()
    assert [d["id"] for d in listed["results"]] == [delivery.pk]
    assert listed["results"][0]["payload"]["type"] == "job.succeeded"
    assert api.get("/api/v1/webhook-deliveries", {"status": "succeeded"}).json()["results"] == []
    bad = api.get("/api/v1/webhook-deliveries", {"status": "exploded"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]

    replayed = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay", HTTP_IDEMPOTENCY_KEY="r-1")
    assert replayed.status_code == 201, replayed.content
    body = replayed.json()
    assert body["replay_of"] == delivery.pk and body["event_id"] == delivery.event_id
    assert body["payload"] == delivery.payload
    # Same Idempotency-Key: the same answer, no second replay.
    again = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay", HTTP_IDEMPOTENCY_KEY="r-1")
    assert again.json()["id"] == body["id"]
    assert WebhookDelivery.objects.filter(replay_of=delivery).count() == 1


def test_another_organization_gets_404_for_every_object(org, stranger):
    endpoint = services.create_endpoint(organization=org, url="https://shop.example.com/a")
    delivery = _delivery(endpoint)
    for method, url in [
        ("get", f"/api/v1/webhook-endpoints/{endpoint.pk}"),
        ("patch", f"/api/v1/webhook-endpoints/{endpoint.pk}"),
        ("delete", f"/api/v1/webhook-endpoints/{endpoint.pk}"),
        ("get", f"/api/v1/webhook-deliveries/{delivery.pk}"),
        ("post", f"/api/v1/webhook-deliveries/{delivery.pk}/replay"),
        ("get", f"/api/v1/webhook-deliveries?endpoint={endpoint.pk}"),
    ]:
        response = getattr(stranger, method)(url, {}, format="json") if method != "get" else stranger.get(url)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.get("/api/v1/webhook-endpoints").json()["results"] == []
    assert stranger.get("/api/v1/webhook-deliveries").json()["results"] == []
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).exists()
    assert not WebhookDelivery.objects.filter(replay_of=delivery).exists()


def test_requests_without_a_key_are_refused(org):
    response = APIClient().get("/api/v1/webhook-endpoints")
    assert response.status_code in (401, 403) and "error" in response.json()
