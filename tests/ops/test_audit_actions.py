"""Audit entries for the security-relevant actions, through the real pages and API: API key creation and
revocation, webhook endpoint create / update / secret rotation / delete (dashboard and API), with actor,
organization, action, target and the client's address; never a secret in the trail."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop_video.core import audit
from shop_video.merchants.api_keys import create_api_key
from shop_video.merchants.models import ApiKey
from shop_video.ops.models import AuditEvent
from shop_video.webhooks.models import WebhookEndpoint
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

IP = "203.0.113.44"


def _logged_in(membership) -> Client:
    client = Client(REMOTE_ADDR=IP)
    assert client.login(username=membership.user.username, password=PASSWORD)
    return client


def _events(org, prefix: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organization=org, action__startswith=prefix).order_by("id"))


def test_api_key_creation_and_revocation_on_the_dashboard_are_audited_once():
    owner = MembershipFactory()
    org, user = owner.organization, owner.user
    client = _logged_in(owner)
    page = client.post("/api-keys/", {"name": "Shopify sync"})
    assert page.status_code == 201
    key = ApiKey.objects.get(organization=org)
    for _ in range(2):  # revoking twice is one revocation
        assert client.post(f"/api-keys/{key.pk}/revoke/").status_code == 302

    created, revoked = _events(org, "api_key.")
    for event, action in ((created, audit.API_KEY_CREATED), (revoked, audit.API_KEY_REVOKED)):
        assert event.action == action
        assert event.actor == user and event.actor_label == user.username
        assert event.organization == org
        assert event.target == f"merchants.apikey:{key.pk}"
        assert event.ip == IP
        assert event.metadata == {"prefix": key.prefix, "name": "Shopify sync"}
    secret = re.search(r"sv_live_[A-Za-z0-9]{43}", page.content.decode()).group(0)  # shown once on the page
    assert all(secret not in json.dumps(e.metadata) + e.target for e in (created, revoked))


def test_a_key_made_by_the_management_command_path_is_audited_without_a_user():
    org = MembershipFactory().organization
    key, secret = create_api_key(organization=org, name="cli")
    event = AuditEvent.objects.get(action=audit.API_KEY_CREATED)
    assert event.actor is None and event.organization == org and event.target == f"merchants.apikey:{key.pk}"
    assert secret not in json.dumps(event.metadata) and event.ip is None


def test_webhook_endpoint_changes_on_the_dashboard_are_audited():
    editor = MembershipFactory()
    org, user = editor.organization, editor.user
    client = _logged_in(editor)
    client.post("/webhooks/", {"url": "https://shop.example.com/h", "events": ["job.succeeded"]})
    endpoint = WebhookEndpoint.objects.get(organization=org)
    first_secret = endpoint.secret
    client.post(f"/webhooks/endpoints/{endpoint.pk}/toggle/")
    page = client.post(f"/webhooks/endpoints/{endpoint.pk}/rotate-secret/", follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != first_secret and endpoint.secret in page.content.decode()  # shown once
    client.post(f"/webhooks/endpoints/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    events = _events(org, "webhook_endpoint.")
    assert [e.action for e in events] == [
        audit.WEBHOOK_ENDPOINT_CREATED,
        audit.WEBHOOK_ENDPOINT_UPDATED,
        audit.WEBHOOK_SECRET_ROTATED,
        audit.WEBHOOK_ENDPOINT_DELETED,
    ]
    for event in events:
        assert event.actor == user and event.organization == org and event.ip == IP
        assert event.target == f"webhooks.webhookendpoint:{endpoint.pk}"
        assert event.metadata["url"] == "https://shop.example.com/h"
        trail = json.dumps(event.metadata)
        assert first_secret not in trail and endpoint.secret not in trail
    assert events[1].metadata["changes"] == {"active": [True, False]}
    assert events[2].metadata["old_secret_hint"] == first_secret[:10] + "…"


def test_webhook_endpoint_changes_through_the_api_name_the_key():
    org = MembershipFactory().organization
    key, secret = create_api_key(organization=org, name="integration")
    api = APIClient(REMOTE_ADDR="2001:db8::7")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    created = api.post(
        "/api/v1/webhook-endpoints", {"url": "https://shop.example.com/a", "events": ["job.failed"]}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    updated = api.patch(f"/api/v1/webhook-endpoints/{pk}", {"url": "https://shop.example.com/b"}, format="json")
    assert updated.status_code == 200, updated.content
    rotated = api.post(f"/api/v1/webhook-endpoints/{pk}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]
    assert rotated.json()["secret"] == WebhookEndpoint.objects.get(pk=pk).secret
    assert api.delete(f"/api/v1/webhook-endpoints/{pk}").status_code == 204

    events = _events(org, "webhook_endpoint.")
    assert [e.action for e in events] == [
        audit.WEBHOOK_ENDPOINT_CREATED,
        audit.WEBHOOK_ENDPOINT_UPDATED,
        audit.WEBHOOK_SECRET_ROTATED,
        audit.WEBHOOK_ENDPOINT_DELETED,
    ]
    for event in events:
        assert event.actor is None and event.actor_label == f"api key {key.prefix}…"
        assert event.organization == org and event.ip == "2001:db8::7"
        assert event.target == f"webhooks.webhookendpoint:{pk}"
    assert events[1].metadata["changes"] == {"url": ["https://shop.example.com/a", "https://shop.example.com/b"]}


def test_rotating_another_organizations_endpoint_is_a_404_and_not_audited():
    mine, theirs = MembershipFactory().organization, MembershipFactory().organization
    endpoint = WebhookEndpoint.objects.create(organization=theirs, url="https://x.example.com", events=["job.failed"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=mine)[1]}")
    assert api.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret").status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="webhook_endpoint.").exists()
