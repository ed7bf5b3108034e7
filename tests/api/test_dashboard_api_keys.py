"""The dashboard's API keys page: owners create (shown once), list and revoke; others cannot."""

from __future__ import annotations

import pytest
from django.test import Client

from shop_video.merchants.api_keys import api_key_for_secret, create_api_key
from shop_video.merchants.models import ApiKey, Membership
from tests.factories import MembershipFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _browser(org, role=Membership.Role.OWNER) -> Client:
    membership = MembershipFactory(organization=org, role=role)
    client = Client()
    client.force_login(membership.user)
    return client


def test_create_shows_the_key_once_and_it_works(org):
    browser = _browser(org)
    response = browser.post("/api-keys/", {"name": "Shopify sync"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    secret = response.context["new_key"]
    assert secret in response.content.decode()
    api_key = api_key_for_secret(secret)
    assert api_key.organization == org and api_key.name == "Shopify sync" and api_key.created_by is not None
    assert client_for(secret).get("/api/v1/products").status_code == 200
    listing = browser.get("/api-keys/").content.decode()
    assert api_key.prefix in listing and secret not in listing and "Shopify sync" in listing


def test_revoke(org):
    api_key, secret = create_api_key(organization=org, name="old")
    browser = _browser(org)
    response = browser.post(f"/api-keys/{api_key.pk}/revoke/")
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client_for(secret).get("/api/v1/products").status_code == 401
    assert "Revoked" in browser.get("/api-keys/").content.decode()


def test_another_orgs_key_cannot_be_revoked_or_seen(org, other_org):
    theirs, _secret = create_api_key(organization=other_org, name="theirs-key")
    browser = _browser(org)
    assert browser.post(f"/api-keys/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert theirs.prefix not in browser.get("/api-keys/").content.decode()


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.VIEWER])
def test_only_owners_manage_keys(org, role):
    api_key, _secret = create_api_key(organization=org)
    browser = _browser(org, role)
    assert browser.get("/api-keys/").status_code == 403
    assert browser.post("/api-keys/", {"name": "x"}).status_code == 403
    assert browser.post(f"/api-keys/{api_key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.filter(organization=org).count() == 1


def test_anonymous_goes_to_login(db):
    response = Client().get("/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_too_long_name_is_400(org):
    response = _browser(org).post("/api-keys/", {"name": "x" * 101})
    assert response.status_code == 400 and not ApiKey.objects.exists()
