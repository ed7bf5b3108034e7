"""The webhooks dashboard pages: add an endpoint (secret shown once), the log, replay; tenancy."""

from __future__ import annotations

import pytest

from shop_video.merchants.models import Membership
from shop_video.webhooks import services
from shop_video.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def _login(client, membership):
    client.login(username=membership.user.username, password=PASSWORD)
    return membership.organization


def test_adding_an_endpoint_shows_its_secret_once(client):
    org = _login(client, MembershipFactory())
    response = client.post(
        "/webhooks/", {"url": "https://shop.example.com/h", "events": ["job.succeeded", "batch.completed"]}, follow=True
    )
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert endpoint.events == ["job.succeeded", "batch.completed"]
    html = response.content.decode()
    assert endpoint.secret in html and 'id="new-secret"' in html
    again = client.get("/webhooks/").content.decode()
    assert endpoint.secret not in again and endpoint.secret_hint in again
    assert 'href="/webhooks/"' in again  # the nav link


def test_an_http_url_is_refused_with_a_message(client):
    _login(client, MembershipFactory())
    response = client.post("/webhooks/", {"url": "http://shop.example.com/h", "events": ["job.failed"]})
    assert response.status_code == 400
    assert "HTTPS" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_log_lists_deliveries_and_replays_them(client, broker):
    org = _login(client, MembershipFactory())
    endpoint = services.create_endpoint(organization=org, url="https://shop.example.com/h")
    payload = services.build_payload("job.failed", {"id": 3})
    [delivery] = services.create_deliveries(org.pk, "job.failed", "msg_dash1", payload)
    page = client.get("/webhooks/deliveries/", {"endpoint": endpoint.pk}).content.decode()
    assert "msg_dash1" in page and "job.failed" in page
    response = client.post(f"/webhooks/deliveries/{delivery.pk}/replay/")
    replay = WebhookDelivery.objects.get(replay_of=delivery)
    assert response.status_code == 302 and response["Location"] == f"/webhooks/deliveries/{replay.pk}/"
    assert client.get(response["Location"]).status_code == 200


def test_another_organization_and_a_viewer_cannot_touch_an_endpoint(client):
    owner = MembershipFactory()
    endpoint = services.create_endpoint(organization=owner.organization, url="https://shop.example.com/h")
    [delivery] = services.create_deliveries(
        owner.organization_id, "job.failed", "msg_x", services.build_payload("job.failed", {})
    )
    _login(client, MembershipFactory())
    for url in [
        f"/webhooks/endpoints/{endpoint.pk}/toggle/",
        f"/webhooks/endpoints/{endpoint.pk}/delete/",
        f"/webhooks/deliveries/{delivery.pk}/replay/",
    ]:
        assert client.post(url).status_code == 404
    assert client.get(f"/webhooks/deliveries/{delivery.pk}/").status_code == 404
    assert client.get(f"/webhooks/deliveries/?endpoint={endpoint.pk}").status_code == 404
    viewer = MembershipFactory(organization=owner.organization, role=Membership.Role.VIEWER)
    _login(client, viewer)
    assert client.post(f"/webhooks/endpoints/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).exists()
    assert not WebhookDelivery.objects.filter(replay_of=delivery).exists()
