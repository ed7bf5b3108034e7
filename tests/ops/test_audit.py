"""The audit log: logins, logouts and failed logins from the real login view; record() for everyone else."""

from __future__ import annotations

import pytest
from django.test import Client

from shop_video.core import audit
from shop_video.ops.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_logout_and_failed_login_are_recorded_with_ip():
    membership = MembershipFactory()
    user = membership.user
    client = Client(REMOTE_ADDR="203.0.113.9")

    client.post("/accounts/login/", {"username": user.username, "password": "wrong password"})
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    client.post("/accounts/logout/")

    events = list(AuditEvent.objects.filter(action__startswith="auth.").order_by("id"))
    assert [e.action for e in events] == [audit.LOGIN_FAILED, audit.LOGIN, audit.LOGOUT]
    failed, login, logout = events
    assert failed.actor is None and failed.target == f"username:{user.username}"
    assert "wrong" not in str(failed.metadata)  # never the password
    assert login.actor == user and login.actor_label == user.username
    assert logout.actor == user
    assert {e.ip for e in events} == {"203.0.113.9"}


def test_record_keeps_labels_when_actor_and_organization_are_deleted():
    org = OrganizationFactory(name="Acme Ltd")
    user = UserFactory()
    event = audit.record("api_key.created", actor=user, organization=org, target=org, metadata={"prefix": "sv_ab"})
    assert event.target == f"merchants.organization:{org.pk}"
    user.delete()
    org.delete()
    event.refresh_from_db()
    assert event.actor is None and event.organization is None
    assert event.actor_label == user.username
    assert event.organization_label == "Acme Ltd"
    assert event.metadata == {"prefix": "sv_ab"}


def test_record_takes_actor_organization_and_ip_from_the_request(rf):
    membership = MembershipFactory()
    request = rf.post("/x", REMOTE_ADDR="2001:db8::1")
    request.user = membership.user
    request.organization = membership.organization
    event = audit.record("webhook_endpoint.updated", request=request, target="webhook_endpoint:3")
    assert event.actor == membership.user
    assert event.organization == membership.organization
    assert event.ip == "2001:db8::1"


def test_a_forged_forwarded_for_header_is_not_taken_as_the_ip(rf):
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert audit.client_ip(request) == "198.51.100.7"
    assert audit.client_ip(rf.get("/", REMOTE_ADDR="not-an-ip")) is None
