"""Tenancy of the dashboard and the file views, by enumerating every URL pattern.

A user of organization B gets 404 for every page, partial, action and file of organization A (GET and POST,
with and without htmx), and nothing of A changes; anonymous users are sent to the login page everywhere.
A new URL pattern with an object id fails `test_every_pattern_with_an_id_is_covered` until it is added here.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from generation.market_services import set_localized_title
from generation.models import (
    Batch,
    CatalogImport,
    Job,
    MarketPreset,
    ModelLook,
    Photo,
    Product,
    ProductLocalization,
    Video,
)
from shop_video.merchants.api_keys import create_api_key
from shop_video.merchants.models import ApiKey, Membership
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory, ensure_presets
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db

NAMESPACES = ("dashboard", "files")


def url_names() -> dict[str, bool]:
    """Every named pattern in the dashboard and files namespaces → whether it takes an object id."""
    names: dict[str, bool] = {}

    def walk(patterns, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace in NAMESPACES and entry.name:
                names[f"{namespace}:{entry.name}"] = "pk" in entry.pattern.converters

    walk(get_resolver().url_patterns, None)
    return names


@pytest.fixture
def org_a():
    """Organization A with one of everything: product, photo, a batch with a queued, a failed and a done job."""
    member = MembershipFactory(organization__name="Alpha Secret Shop")
    org = member.organization
    product = ProductFactory(organization=org, title="Alpha secret kettle", sku="ALPHA-1")
    photo = PhotoFactory(product=product, original_name="alpha-front.png")
    queued = JobFactory(photo=photo, batch__name="Alpha secret batch")
    failed = JobFactory(
        photo=photo, batch=queued.batch, state=Job.State.FAILED, error_message="Alpha secret failure", attempt=1
    )
    done = JobFactory(photo=photo, batch=queued.batch, attempt=1)
    video = make_video(done)
    editor = MembershipFactory(organization=org, role="editor", user__email="alpha-secret-editor@example.com")
    api_key, _secret = create_api_key(organization=org, name="Alpha secret sync")
    catalog = CatalogImport(organization=org, original_name="alpha-secret.csv", checksum="a" * 64, status="ready")
    catalog.file.save("alpha-secret.csv", ContentFile(b"sku,title\nALPHA-1,Alpha secret kettle\n"), save=False)
    catalog.save()
    ensure_presets()
    look = ModelLook.objects.create(
        market=MarketPreset.objects.get(slug="us"),
        organization=org,
        slug="alpha-secret-look",
        name="Alpha secret look",
        descriptors="Alpha secret styling",
    )
    set_localized_title(product=product, language="de", title="Alpha geheimer Kessel")
    return {
        "look": look,
        "import": catalog,
        "api_key": api_key,
        "member": editor,
        "org": org,
        "product": product,
        "photo": photo,
        "batch": queued.batch,
        "queued": queued,
        "failed": failed,
        "video": video,
    }


SECRETS = (
    "Alpha secret look",
    "Alpha geheimer Kessel",
    "Alpha secret kettle",
    "ALPHA-1",
    "alpha-front.png",
    "Alpha secret batch",
    "Alpha secret failure",
)


def object_for(name: str, a: dict) -> list:
    """The URL arguments of organization A's object each pattern takes; KeyError for a pattern not covered yet."""
    if name == "dashboard:localization_delete":
        return [a["product"].pk, "de"]
    return [_object_ids(a)[name]]


def _object_ids(a: dict) -> dict[str, int]:
    return {
        "dashboard:product_detail": a["product"].pk,
        "dashboard:product_edit": a["product"].pk,
        "dashboard:photo_add": a["product"].pk,
        "dashboard:photo_remove": a["photo"].pk,
        "dashboard:generate": a["product"].pk,
        "dashboard:ad_new": a["product"].pk,
        "dashboard:ad_music": a["product"].pk,
        "dashboard:photo_mask_upload": a["photo"].pk,
        "dashboard:photo_cutout_preview": a["photo"].pk,
        "dashboard:photo_cutout_save": a["photo"].pk,
        "dashboard:batch_detail": a["batch"].pk,
        "dashboard:batch_jobs": a["batch"].pk,
        "dashboard:batch_cancel": a["batch"].pk,
        "dashboard:job_cancel": a["queued"].pk,
        "dashboard:job_retry": a["failed"].pk,
        "dashboard:localization_save": a["product"].pk,
        "dashboard:look_edit": a["look"].pk,
        "dashboard:look_update": a["look"].pk,
        "dashboard:look_delete": a["look"].pk,
        "dashboard:video_detail": a["video"].pk,
        "dashboard:video_approve": a["video"].pk,
        "dashboard:video_reject": a["video"].pk,
        "dashboard:video_regenerate": a["video"].pk,
        "dashboard:member_role": a["member"].pk,
        "dashboard:member_remove": a["member"].pk,
        "dashboard:api_key_revoke": a["api_key"].pk,
        "dashboard:import_detail": a["import"].pk,
        "dashboard:import_report": a["import"].pk,
        "dashboard:import_confirm": a["import"].pk,
        "dashboard:import_recheck": a["import"].pk,
        "dashboard:import_recheck_failed": a["import"].pk,
        "dashboard:import_discard": a["import"].pk,
        "files:photo": a["photo"].pk,
        "files:photo_mask": a["photo"].pk,
        "files:video": a["video"].pk,
        "files:video_download": a["video"].pk,
        "files:video_poster": a["video"].pk,
        "files:video_preview": a["video"].pk,
    }


def post_data(name: str, a: dict) -> dict:
    """A well-formed payload, so a 404 is the tenancy check and not a form error."""
    if name == "dashboard:photo_mask_upload":
        mask = np.zeros((a["photo"].height, a["photo"].width), np.uint8)
        mask[50:150, 50:150] = 255
        buf = io.BytesIO()
        Image.fromarray(mask, "L").save(buf, "PNG")
        return {"mask": SimpleUploadedFile("mask.png", buf.getvalue(), content_type="image/png")}
    if name == "dashboard:video_reject":
        return {"reason": "Too dark"}
    if name == "dashboard:product_edit":
        return {"product-title": "Beta overwrite", "product-sku": "", "product-category": "other"}
    if name == "dashboard:photo_add":
        buf = io.BytesIO()
        Image.new("RGB", (320, 320), "white").save(buf, "PNG")
        return {"photos": SimpleUploadedFile("extra.png", buf.getvalue(), content_type="image/png")}
    if name == "dashboard:localization_save":
        return {"language": "de", "title": "Beta overwrite"}
    if name == "dashboard:look_update":
        return {"market": "us", "name": "Beta overwrite", "descriptors": "Beta overwrite"}
    if name == "dashboard:member_role":
        return {"role": "viewer"}
    if name == "dashboard:generate":
        return {
            "photos": [str(a["photo"].pk)],
            "markets": ["us"],
            "seconds": ["5"],
            "resolution": "480p",
            "engine": "compositor",
        }
    return {}


def snapshot(a: dict) -> tuple:
    org = a["org"]
    return (
        sorted(Job.objects.filter(organization=org).values_list("pk", "state", "attempt", "error_message")),
        Batch.objects.filter(organization=org).count(),
        sorted(Photo.objects.filter(organization=org).values_list("pk", "mask", "mask_source")),
        sorted(Product.objects.filter(organization=org).values_list("pk", "title")),
        sorted(Video.objects.filter(organization=org).values_list("pk", "review", "review_note")),
        sorted(Membership.objects.filter(organization=org).values_list("pk", "role")),
        sorted(ApiKey.objects.filter(organization=org).values_list("pk", "revoked_at")),
        sorted(CatalogImport.objects.filter(organization=org).values_list("pk", "status")),
        sorted(ModelLook.objects.filter(organization=org).values_list("pk", "name", "descriptors")),
        sorted(ProductLocalization.objects.filter(product__organization=org).values_list("pk", "language", "title")),
    )


def test_every_pattern_with_an_id_is_covered(org_a):
    names = url_names()
    assert "dashboard:product_detail" in names
    assert "files:video" in names
    for name, takes_id in names.items():
        if takes_id:
            object_for(name, org_a)  # raises KeyError for an uncovered pattern


def test_other_organization_gets_404_everywhere(client, org_a):
    outsider = MembershipFactory(organization__name="Beta Shop")
    client.force_login(outsider.user)
    before = snapshot(org_a)
    checked = 0
    for name, takes_id in url_names().items():
        if not takes_id:
            continue
        url = reverse(name, args=object_for(name, org_a))
        responses = {
            "GET": client.get(url, HTTP_RANGE="bytes=0-99"),
            "GET htmx": client.get(url, HTTP_HX_REQUEST="true"),
            "POST": client.post(url, post_data(name, org_a)),
            "POST htmx": client.post(url, post_data(name, org_a), HTTP_HX_REQUEST="true"),
        }
        statuses = {how: r.status_code for how, r in responses.items()}
        # 405 (method not allowed) is decided before any lookup and reveals nothing; everything else is 404.
        assert set(statuses.values()) <= {404, 405}, (name, statuses)
        assert 404 in statuses.values(), (name, statuses)
        for response in responses.values():
            content = b"".join(response.streaming_content) if response.streaming else response.content
            for secret in SECRETS:
                assert secret.encode() not in content, (name, secret)
        checked += 1
    assert checked == 39
    assert snapshot(org_a) == before


def test_estimate_with_another_organizations_photo_is_404(client, org_a):
    outsider = MembershipFactory()
    own_photo = PhotoFactory(product__organization=outsider.organization)
    client.force_login(outsider.user)
    data = {"markets": ["us"], "aspect_ratios": ["1:1"], "seconds": ["5"], "resolution": "480p", "engine": "compositor"}
    mine = client.post(reverse("dashboard:estimate"), {**data, "photos": [own_photo.pk]})
    assert mine.status_code == 200
    assert "1 video · 5 credits" in mine.content.decode()
    theirs = client.post(reverse("dashboard:estimate"), {**data, "photos": [own_photo.pk, org_a["photo"].pk]})
    assert theirs.status_code == 404
    nonsense = client.post(reverse("dashboard:estimate"), {**data, "photos": ["x"]})
    assert nonsense.status_code == 400


def test_lists_show_only_the_own_organization(client, org_a):
    outsider = MembershipFactory()
    ProductFactory(organization=outsider.organization, title="Beta teapot")
    client.force_login(outsider.user)
    for name in ("dashboard:home", "dashboard:product_list", "dashboard:batch_list", "dashboard:video_list"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        page = response.content.decode()
        for secret in SECRETS:
            assert secret not in page, (name, secret)
        assert reverse("dashboard:batch_detail", args=[org_a["batch"].pk]) not in page
        assert reverse("files:video_poster", args=[org_a["video"].pk]) not in page
        assert reverse("files:photo", args=[org_a["photo"].pk]) not in page
    assert "Beta teapot" in client.get(reverse("dashboard:product_list")).content.decode()


def test_generating_with_another_organizations_photo_on_an_own_product_fails(client, org_a):
    outsider = MembershipFactory()
    own = ProductFactory(organization=outsider.organization)
    PhotoFactory(product=own)
    client.force_login(outsider.user)
    response = client.post(
        reverse("dashboard:generate", args=[own.pk]),
        {
            "photos": [org_a["photo"].pk],
            "markets": ["us"],
            "seconds": ["5"],
            "resolution": "480p",
            "engine": "compositor",
        },
    )
    assert response.status_code == 400
    assert not Batch.objects.filter(organization=outsider.organization).exists()
    assert not Job.objects.filter(photo=org_a["photo"]).exclude(organization=org_a["org"]).exists()


def test_owner_reaches_every_page(client, org_a):
    """The same URLs work for organization A's own user: the 404s above are tenancy, not broken routes."""
    owner = org_a["org"].memberships.get(role="owner").user
    client.force_login(owner)
    for name, takes_id in url_names().items():
        if not takes_id:
            continue
        url = reverse(name, args=object_for(name, org_a))
        actions = ("_cancel", "_retry", "_approve", "_reject", "_regenerate", "_revoke", "member_role", "member_remove")
        actions += (
            "import_confirm",
            "import_recheck",
            "import_recheck_failed",
            "import_discard",
            "_delete",
            "_save",
            "look_update",
        )
        posts = {"dashboard:generate", "dashboard:photo_mask_upload", "dashboard:photo_cutout_preview"}
        posts |= {"dashboard:product_edit", "dashboard:photo_add", "dashboard:photo_remove", "dashboard:ad_music"}
        if name in posts or name.endswith(actions):
            continue  # actions: exercised in test_dashboard
        assert client.get(url).status_code == 200, name


# Pages for people who are not logged in (yet): sign-up, password reset, invitation links.
PUBLIC = {
    "dashboard:signup",
    "dashboard:signup_sent",
    "dashboard:verify_email",
    "dashboard:password_reset",
    "dashboard:password_reset_done",
    "dashboard:password_reset_confirm",
    "dashboard:password_reset_complete",
    "dashboard:accept_invitation",
    "files:signed",  # for API clients without a session: the signature decides (tests/api)
}


def test_anonymous_is_redirected_to_login_everywhere(client, org_a):
    login = reverse("login")
    for name, takes_id in url_names().items():
        if name in PUBLIC:
            continue
        url = reverse(name, args=object_for(name, org_a)) if takes_id else reverse(name)
        for response in (client.get(url), client.post(url, {})):
            assert response.status_code == 302, name
            assert response["Location"].startswith(f"{login}?next="), name
    assert snapshot(org_a)[1] == 1
