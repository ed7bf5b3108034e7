"""An owner deletes their shop from the dashboard: they read what goes, type the shop's name, and everyone's access
ends in that request (members, API keys, webhook endpoints); the files and rows go in the background task. A wrong
name, an editor, or a plan Stripe still bills changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from billing.models import Subscription
from generation.models import Photo, Video
from shop_video.core import audit
from shop_video.merchants.api_keys import create_api_key
from shop_video.merchants.models import ApiKey, Invitation, Membership, Organization
from shop_video.ops.models import AuditEvent
from shop_video.webhooks.models import WebhookEndpoint
from tests.factories import PASSWORD, TEST_CREDITS, MembershipFactory, OrganizationFactory, ProductFactory

from .conftest import make_video

pytestmark = pytest.mark.django_db
URL = "/account/delete-shop/"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def shop(media):
    """A shop with a video (real stored files), an editor, an API key, a webhook endpoint and an invitation."""
    video = make_video()
    org = video.organization
    org.name = "Amber & Oak"
    org.save()
    owner = MembershipFactory(organization=org, role=Membership.Role.OWNER)
    editor = MembershipFactory(organization=org, role=Membership.Role.EDITOR)
    ProductFactory(organization=org)
    _key, secret = create_api_key(organization=org, name="shopify")
    WebhookEndpoint.objects.create(organization=org, url="https://hooks.example.com/sv", secret="whsec_x", events=[])
    Invitation.objects.create(organization=org, email="new@example.com", token_hash="h" * 64)
    return {"org": org, "video": video, "owner": owner, "editor": editor, "secret": secret}


def _client(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _unchanged(shop) -> None:
    org = shop["org"]
    assert Membership.objects.filter(organization=org).count() == 2
    assert ApiKey.objects.get(organization=org).revoked_at is None
    assert WebhookEndpoint.objects.get(organization=org).active
    assert default_storage.exists(shop["video"].file.name)
    assert not AuditEvent.objects.filter(action__startswith="organization.").exists()


def test_the_page_says_what_goes_and_only_owners_see_it(shop):
    page = _client(shop["owner"]).get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Delete “Amber &amp; Oak”" in text
    summary = text[text.index('id="deletion-summary"') :]
    summary = summary[: summary.index("</ul>")]
    for line in ("2 products with their photos", "1 video", "2 members lose access at once", "1 API key is revoked",
                 "1 webhook endpoint stops", f"{TEST_CREDITS} unused credits are given up"):  # fmt: skip
        assert line in summary, (line, summary)
    team = _client(shop["owner"]).get(reverse("dashboard:team")).content.decode()
    assert 'id="delete-shop-link"' in team

    editor = _client(shop["editor"])
    assert 'id="delete-shop-link"' not in editor.get(reverse("dashboard:team")).content.decode()
    assert editor.get(URL).status_code == 403
    assert editor.post(URL, {"name": "Amber & Oak"}).status_code == 403
    assert Client().get(URL).status_code == 302  # anonymous: the login page
    _unchanged(shop)


def test_a_wrong_name_deletes_nothing(shop):
    response = _client(shop["owner"]).post(URL, {"name": "amber & oak"})
    assert response.status_code == 400
    assert "That is not this shop&#x27;s name: nothing was deleted." in response.content.decode()
    _unchanged(shop)


def test_a_plan_stripe_still_bills_must_be_canceled_first(shop):
    Subscription.objects.create(organization=shop["org"], subscription_id="sub_live_9", plan="pro", status="active")
    client = _client(shop["owner"])
    assert 'id="live-plan"' in client.get(URL).content.decode()
    response = client.post(URL, {"name": "Amber & Oak"})
    assert response.status_code == 409
    assert "still has a live subscription (sub_live_9)" in response.content.decode()
    _unchanged(shop)


def test_deleting_ends_everyones_access_at_once_then_the_purge_removes_the_files(
    shop, media, eager_tasks, django_capture_on_commit_callbacks
):
    org, owner, editor = shop["org"], shop["owner"], shop["editor"]
    other = make_video()  # another merchant: untouched
    owner_client, editor_client = _client(owner), _client(editor)
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {shop['secret']}")
    assert api.get("/api/v1/products").status_code == 200

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(URL, {"name": "  Amber & Oak "})
    assert response.status_code == 200  # the owner belongs to no other shop: signed out, told so
    assert "“Amber &amp; Oak” is deleted" in response.content.decode()
    assert "_auth_user_id" not in owner_client.session
    assert len(callbacks) == 1  # the purge is sent once the request committed

    # Access is gone before the purge has run: members, API key, webhook endpoint, invitation.
    assert Organization.objects.filter(pk=org.pk).exists()
    assert not Membership.objects.filter(organization=org).exists()
    assert not Invitation.objects.filter(organization=org).exists()
    assert ApiKey.objects.get(organization=org).revoked_at is not None
    assert not WebhookEndpoint.objects.get(organization=org).active
    assert api.get("/api/v1/products").status_code == 401
    assert editor_client.get(reverse("dashboard:video_list")).status_code == 404
    event = AuditEvent.objects.get(action=audit.ORGANIZATION_DELETION_REQUESTED)
    assert event.actor_id == owner.user_id and event.organization_id == org.pk

    callbacks[0]()  # what the worker then runs (its broker here is this process)
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert not Photo.objects.filter(organization_id=org.pk).exists()
    assert not Video.objects.filter(organization_id=org.pk).exists()
    assert not [p for p in media.rglob("*") if p.is_file() and f"orgs/{org.pk}/" in p.as_posix()]
    assert default_storage.exists(other.file.name)
    assert AuditEvent.objects.filter(action=audit.ORGANIZATION_DELETED, organization_label="Amber & Oak").exists()


def test_an_owner_with_another_shop_lands_there(shop, django_capture_on_commit_callbacks):
    owner = shop["owner"]
    second = MembershipFactory(user=owner.user, organization=OrganizationFactory(name="Birch Goods"))
    client = Client()
    assert client.login(username=owner.user.username, password=PASSWORD)
    session = client.session
    session["current_organization_id"] = shop["org"].pk
    session.save()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(URL, {"name": "Amber & Oak"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dashboard:home")
    assert response.wsgi_request.organization == second.organization
    assert "“Amber &amp; Oak” is deleted" in response.content.decode()
