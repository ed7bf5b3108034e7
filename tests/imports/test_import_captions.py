"""The confirm step of a catalogue import takes the wizard's and the API's platform and caption options: the jobs
carry them, and rows that break the platform's rules (or a price tag without a price) refuse the confirm with the
rows named, creating nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from billing.services import grant_credits
from generation import services as gen_services
from generation.imports import services
from generation.market_services import caption_inputs
from generation.models import Batch, CatalogImport, Job, MarketPreset, Product
from shop_video.merchants.api_keys import create_api_key
from tests.factories import PASSWORD, ProductFactory
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db

HEADER = "sku,title,image_url,markets,aspect_ratios,seconds,price,title_de"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(gen_services.dispatch, "_send", lambda *args, **kwargs: None)


def _ready_import(org, server, rows: list[str]) -> CatalogImport:
    grant_credits(organization=org, credits=1000, reason="import caption tests")
    lines = [HEADER]
    for i, row in enumerate(rows):
        url = server.image(f"/p{i}.jpg", product_jpeg(60 + i))
        lines.append(row.replace("{url}", url))
    imp = services.stage_import(organization=org, csv_upload=csv_bytes(lines), filename="cat.csv")
    imp = services.process_import(imp.pk)
    assert imp.status == CatalogImport.Status.READY, list(imp.rows.values_list("issues", flat=True))
    return imp


def _api(org) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=org, name='t')[1]}")
    return api


GOOD_ROWS = [
    "B-1,Glass bottle,{url},de,,5,19.90,Glasflasche",
    "B-2,Steel bottle,{url},us|de,9:16,10,24.50,",
]


def test_api_confirm_with_platform_and_captions_makes_jobs_that_carry_them(org, allow_server):
    imp = _ready_import(org, allow_server, GOOD_ROWS)
    options = {"platform": "tiktok", "captions": {"enabled": True, "price": True, "cta": True}}
    response = _api(org).post(f"/api/v1/imports/{imp.pk}/confirm", options, format="json")
    assert response.status_code == 201, response.content
    batch = Batch.objects.get(pk=response.json()["id"], organization=org)
    jobs = list(Job.objects.filter(batch=batch).select_related("photo__product", "market"))
    assert len(jobs) == 3 == response.json()["job_count"]  # B-1 × de, B-2 × us, de; TikTok's one format each
    for job in jobs:
        assert (job.platform, job.captions, job.caption_price, job.caption_cta) == ("tiktok", True, True, True)
        assert job.aspect_ratio == "9:16"  # B-1 names no format: the platform's, not Germany's several
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.CONFIRMED
    assert imp.options["platform"] == "tiktok" and imp.options["captions"] == options["captions"]
    # The CSV's title_de is what a German caption of B-1 says; B-2 has none and falls back to its title.
    (b1_de,) = [j for j in jobs if j.photo.product.sku == "B-1"]
    assert caption_inputs(product=b1_de.photo.product, market=b1_de.market)["caption_title"] == "Glasflasche"
    b2 = Product.objects.get(organization=org, sku="B-2")
    assert caption_inputs(product=b2, market=MarketPreset.objects.get(slug="de"))["caption_title"] == ""
    assert b2.price == Decimal("24.50")


def test_confirm_without_options_is_as_before(org, allow_server):
    imp = _ready_import(org, allow_server, GOOD_ROWS[:1])
    response = _api(org).post(f"/api/v1/imports/{imp.pk}/confirm")  # an empty multipart body, as before
    assert response.status_code == 201, response.content
    job = Job.objects.filter(batch_id=response.json()["id"]).first()
    assert (job.platform, job.captions, job.caption_price, job.caption_cta) == ("", False, False, False)


def _assert_nothing_created(org, imp: CatalogImport) -> None:
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.READY and imp.batch_id is None
    assert not Batch.objects.filter(organization=org).exists()
    assert not Product.objects.filter(organization=org).exists()
    assert "platform" not in imp.options


@pytest.mark.parametrize(
    ("platform", "row", "column", "rule"),
    [
        ("tiktok", "B-3,Wide bottle,{url},de,16:9,5,9.90,", "aspect_ratios", "aspect_ratio"),
        ("reels", "B-3,Short bottle,{url},de,9:16,2,9.90,", "seconds", "duration_min"),
    ],
)
def test_a_row_that_breaks_the_platforms_rule_refuses_the_confirm_naming_the_row(
    org, allow_server, platform, row, column, rule
):
    imp = _ready_import(org, allow_server, [GOOD_ROWS[0], row])
    api = _api(org)
    response = api.post(f"/api/v1/imports/{imp.pk}/confirm", {"platform": platform}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "platform_rule"
    assert error["message"].startswith("Not confirmed: 1 row breaks the chosen options. Row 3: ")
    assert rule in error["message"]
    assert [(i["row"], i["column"], i["code"]) for i in error["issues"]] == [(3, column, "platform_rule")]
    assert rule in error["issues"][0]["message"]
    assert error["fields"][column] == [f"Row 3: {error['issues'][0]['message']}"]
    _assert_nothing_created(org, imp)
    # The same import still confirms without that platform.
    assert api.post(f"/api/v1/imports/{imp.pk}/confirm", {}, format="json").status_code == 201


def test_a_price_tag_needs_a_price_in_the_row_or_on_the_stored_product(org, allow_server):
    ProductFactory(organization=org, sku="B-5", title="Known", price=Decimal("5.00"))
    imp = _ready_import(
        org,
        allow_server,
        [GOOD_ROWS[0], "B-4,No price,{url},de,9:16,5,,", "B-5,Priced before,{url},de,9:16,5,,"],
    )
    api = _api(org)
    body = {"captions": {"enabled": True, "price": True}}
    response = api.post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "caption_price_missing"
    assert [(i["row"], i["column"]) for i in error["issues"]] == [(3, "price")]  # B-5 has a stored price
    assert Product.objects.filter(organization=org).count() == 1 and not Batch.objects.exists()
    body = {"captions": {"enabled": True}}  # captions without the price tag: fine
    assert api.post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"captions": {"enabled": False, "price": True}}, "caption_options", "captions"),
        ({"platform": "myspace"}, "validation_error", "platform"),
        ({"captions": {"enabled": True, "colour": "red"}}, "validation_error", "captions.colour"),
        ({"platfrom": "tiktok"}, "validation_error", "platfrom"),
    ],
)
def test_bad_options_are_400s_with_codes(org, allow_server, body, code, field):
    imp = _ready_import(org, allow_server, GOOD_ROWS[:1])
    response = _api(org).post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"], error
    _assert_nothing_created(org, imp)


def test_another_organizations_import_is_404_with_options_too(org, allow_server):
    imp = _ready_import(org, allow_server, GOOD_ROWS[:1])
    from tests.factories import OrganizationFactory

    stranger = _api(OrganizationFactory())
    response = stranger.post(f"/api/v1/imports/{imp.pk}/confirm", {"platform": "tiktok"}, format="json")
    assert response.status_code == 404
    _assert_nothing_created(org, imp)


# --- dashboard ------------------------------------------------------------------------------------------------


def _login(client, membership) -> None:
    assert client.login(username=membership.user.username, password=PASSWORD)


def test_dashboard_confirm_form_offers_the_options_and_jobs_carry_them(client, member, allow_server):
    imp = _ready_import(member.organization, allow_server, GOOD_ROWS)
    _login(client, member)
    page = client.get(reverse("dashboard:import_detail", args=[imp.pk])).content.decode()
    form = page.split('id="import-confirm"')[1].split("</form>")[0]
    assert '<select name="platform"' in form and '<option value="tiktok">' in form
    for name in ("captions", "caption_price", "caption_cta"):
        assert f'type="checkbox" name="{name}"' in form
    assert "Made for platform" in form and "Price tag" in form and "Call to action" in form

    response = client.post(
        reverse("dashboard:import_confirm", args=[imp.pk]),
        {"platform": "reels", "captions": "on", "caption_cta": "on"},
    )
    batch = Batch.objects.get(organization=member.organization)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:batch_detail", args=[batch.pk])
    jobs = list(batch.jobs.all())
    assert jobs and all(
        (j.platform, j.captions, j.caption_price, j.caption_cta) == ("reels", True, False, True) for j in jobs
    )
    assert {j.aspect_ratio for j in jobs} == {"9:16"}  # B-1 names no format: Reels' one, not Germany's several


def test_dashboard_refuses_a_bad_combination_on_the_page_with_the_rows_and_choices_kept(client, member, allow_server):
    imp = _ready_import(member.organization, allow_server, [GOOD_ROWS[0], "B-3,Wide bottle,{url},de,16:9,5,9.90,"])
    _login(client, member)
    response = client.post(reverse("dashboard:import_confirm", args=[imp.pk]), {"platform": "tiktok", "captions": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "rule aspect_ratio" in page and 'id="import-option-issues"' in page
    issues = page.split('id="import-option-issues"')[1].split("</table>")[0]
    assert re.search(r"<td[^>]*>3</td>", issues) and "platform_rule" in issues
    assert '<option value="tiktok" selected>' in page  # the choice is kept
    assert 'id="id_captions" checked>' in page and 'id="id_caption_price">' in page
    assert not Batch.objects.exists()

    # A price tag without captions: the form-level rule, next to the captions.
    response = client.post(reverse("dashboard:import_confirm", args=[imp.pk]), {"caption_price": "on"})
    assert response.status_code == 400
    assert "turn captions on" in response.content.decode()
    assert not Batch.objects.exists()


def test_the_confirm_options_and_their_refusal_are_in_simplified_chinese(client, member, allow_server, settings):
    from pathlib import Path

    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0)  # what `make install` does (git-ignored)
    trans_real._translations = {}  # the catalogue as it is now, not one cached by an earlier test
    imp = _ready_import(member.organization, allow_server, [GOOD_ROWS[0], "B-3,Wide bottle,{url},de,16:9,5,9.90,"])
    _login(client, member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("dashboard:import_detail", args=[imp.pk])).content.decode()
    form = page.split('id="import-confirm"')[1].split("</form>")[0]
    for english in ("The price above follows these options", "Rows that name no formats", "Made for platform"):
        assert english not in form, english
    assert "以上价格随这些选项更新" in form and "未指定画幅的行使用该平台的画幅" in form
    refused = client.post(reverse("dashboard:import_confirm", args=[imp.pk]), {"platform": "tiktok"})
    assert refused.status_code == 400
    assert "未确认：1 行不符合所选选项。第 3 行：" in refused.content.decode()
    trans_real._translations = {}
