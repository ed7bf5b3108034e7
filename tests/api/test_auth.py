"""API keys: Bearer authentication, 401 with the error body, revocation, last use, the management command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from shop_video.merchants.api_keys import (
    API_KEY_PREFIX,
    api_key_for_secret,
    create_api_key,
    hash_api_key,
    revoke_api_key,
)
from shop_video.merchants.models import ApiKey, Organization

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db


def test_no_key_is_401_with_the_error_body_and_a_bearer_challenge(org):
    response = client_for(None).get("/api/v1/products")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_key_is_401(org):
    response = client_for(API_KEY_PREFIX + "x" * 43).get("/api/v1/products")
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token sv_live_abc"],
)
def test_malformed_authorization_header_is_401(org, header):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert error_of(response)["code"] in {"invalid_authorization_header", "invalid_api_key"}


def test_revoked_key_is_401(key):
    api_key, secret = key
    assert client_for(secret).get("/api/v1/products").status_code == 200
    revoke_api_key(api_key=api_key)
    response = client_for(secret).get("/api/v1/products")
    assert response.status_code == 401
    assert error_of(response)["code"] == "api_key_revoked"


def test_a_valid_key_works_and_records_its_last_use(key):
    api_key, secret = key
    assert api_key.last_used_at is None
    assert client_for(secret).get("/api/v1/products").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert (timezone.now() - api_key.last_used_at).total_seconds() < 60


def test_only_the_hash_is_stored_and_the_prefix_is_visible(org):
    api_key, secret = create_api_key(organization=org, name="shopify")
    assert secret.startswith(API_KEY_PREFIX) and len(secret) == len(API_KEY_PREFIX) + 43
    row = ApiKey.objects.get(pk=api_key.pk)
    assert row.key_hash == hash_api_key(secret) and secret not in str(vars(row))
    assert secret.startswith(row.prefix) and len(row.prefix) == len(API_KEY_PREFIX) + 8
    assert api_key_for_secret(secret) == row
    assert api_key_for_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_two_keys_are_different(org):
    assert create_api_key(organization=org)[1] != create_api_key(organization=org)[1]


def test_schema_and_docs_need_no_key(db):
    assert client_for(None).get("/api/v1/schema").status_code == 200
    assert client_for(None).get("/api/v1/docs").status_code == 200


def test_create_api_key_command_creates_the_org_and_prints_the_key_last(db):
    out = io.StringIO()
    call_command("create_api_key", "--org", "acme-shop", "--name", "ci", stdout=out)
    lines = out.getvalue().rstrip("\n").split("\n")
    secret = lines[-1]
    assert secret.startswith(API_KEY_PREFIX) and secret.strip() == secret and " " not in secret
    org = Organization.objects.get(slug="acme-shop")
    api_key = api_key_for_secret(secret)
    assert api_key.organization == org and api_key.name == "ci"
    assert client_for(secret).get("/api/v1/products").status_code == 200


def test_create_api_key_command_reuses_an_existing_org(org):
    out = io.StringIO()
    call_command("create_api_key", "--org", org.slug, stdout=out)
    assert Organization.objects.filter(slug=org.slug).count() == 1
    assert api_key_for_secret(out.getvalue().strip().splitlines()[-1]).organization == org


def test_create_api_key_command_refuses_a_bad_slug(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_key", "--org", "not a slug", stdout=io.StringIO())


ENDPOINTS = [
    ("get", "/api/v1/products"),
    ("post", "/api/v1/products"),
    ("get", "/api/v1/products/1"),
    ("patch", "/api/v1/products/1"),
    ("delete", "/api/v1/products/1"),
    ("get", "/api/v1/photos"),
    ("post", "/api/v1/photos"),
    ("get", "/api/v1/photos/1"),
    ("post", "/api/v1/photos/1/mask"),
    ("get", "/api/v1/markets"),
    ("get", "/api/v1/markets/us"),
    ("get", "/api/v1/scenes"),
    ("get", "/api/v1/scenes/studio-sweep"),
    ("get", "/api/v1/jobs"),
    ("post", "/api/v1/jobs"),
    ("post", "/api/v1/jobs/estimate"),
    ("get", "/api/v1/jobs/1"),
    ("post", "/api/v1/jobs/1/cancel"),
    ("post", "/api/v1/jobs/1/retry"),
    ("get", "/api/v1/batches"),
    ("get", "/api/v1/batches/1"),
    ("post", "/api/v1/batches/1/cancel"),
    ("get", "/api/v1/videos"),
    ("get", "/api/v1/videos/1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_wants_a_key(org, method, path):
    response = getattr(client_for(None), method)(path, {}, format="json")
    assert response.status_code == 401, (method, path)
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_a_revoked_key(key, method, path):
    api_key, secret = key
    revoke_api_key(api_key=api_key)
    response = getattr(client_for(secret), method)(path, {}, format="json")
    assert response.status_code == 401, (method, path)
    assert error_of(response)["code"] == "api_key_revoked"
