"""A CSV import that asks for ads: ONE ad per product (a Shopify handle's rows and images together) and market,
priced in the estimate before confirming, submitted as ad jobs whose reserved credits are the estimate; a product
the platform's rules refuse is a row issue with its code and fix, and nothing is reserved for it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from billing import pricing
from billing.selectors import credits_for, ledger_is_consistent
from billing.services import grant_credits
from generation import services as gen_services
from generation.imports import services
from generation.imports.validate import report_entries
from generation.models import Batch, CatalogImport, Job, Photo, Product
from shop_video.merchants.api_keys import create_api_key
from tests.e2e.conftest import browser_context, page  # noqa: F401 (the e2e tests' Chromium, imported fixtures)
from tests.e2e.test_languages import log_in
from tests.factories import PASSWORD, MembershipFactory, ensure_presets
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db

TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "shopify" / "product_template.csv"
CDN = "https://burst.shopifycdn.com"
# The template's products, as the export groups them: handle → (SKU, distinct images).
PRODUCTS = {"SRT_COT_111": 6, "PNT_DEN_285": 4, "HAT_GRY_275": 1}
MARKETS = ["us", "de"]
AD_SECONDS = 6


@pytest.fixture(autouse=True)
def _english_and_no_broker(monkeypatch):
    monkeypatch.setattr(gen_services.dispatch, "_send", lambda *args, **kwargs: None)
    with translation.override("en"):
        yield


def _api(org) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=org, name='t')[1]}")
    return api


def _shopify_import(org, server) -> CatalogImport:
    """Shopify's template export, unchanged but for its image host: each image path is served locally as a
    small product photo of its own."""
    text = TEMPLATE.read_bytes().decode("utf-8")
    paths = sorted({line.split(CDN, 1)[1].split(",", 1)[0] for line in text.split("\n")[1:] if CDN in line})
    for n, path in enumerate(paths):
        server.image(path, product_jpeg(40 + n, (256, 320)))
    data = text.replace(CDN, f"http://{server.netloc}").encode("utf-8")
    grant_credits(organization=org, credits=5000, reason="ads import tests")
    imp = services.stage_import(
        organization=org, csv_upload=data, filename="products.csv", options={"markets": "|".join(MARKETS)}
    )
    imp = services.process_import(imp.pk)
    assert imp.status == CatalogImport.Status.READY, list(imp.rows.values_list("issues", flat=True))
    return imp


@pytest.mark.slow  # 11 photos cut out and 6 storyboards planned: 4–7 s on two shared cores
def test_shopify_export_estimates_and_confirms_one_ad_per_product_and_market(org, allow_server):
    imp = _shopify_import(org, allow_server)
    assert imp.format == CatalogImport.Format.SHOPIFY and imp.rows_valid == len(PRODUCTS)
    api = _api(org)
    body = {"output": "ads", "ad_seconds": AD_SECONDS}

    response = api.post(f"/api/v1/imports/{imp.pk}/estimate", body, format="json")
    assert response.status_code == 200, response.content
    estimate = response.json()
    one_ad = pricing.credits_for_video(engine="compositor", resolution="480p", seconds=AD_SECONDS)
    count = len(PRODUCTS) * len(MARKETS)
    assert (estimate["videos"], estimate["credits"], estimate["seconds"]) == (count, count * one_ad, 6.0 * count)
    assert {(a["sku"], a["market"]) for a in estimate["ads"]} == {(s, m) for s in PRODUCTS for m in MARKETS}
    assert {a["sku"]: a["photos"] for a in estimate["ads"]} == PRODUCTS  # a handle's images make one ad
    assert {a["seconds"] for a in estimate["ads"]} == {float(AD_SECONDS)} and estimate["skipped"] == []
    # Videos, as before, are one per photo: the same import priced the other way is another count.
    assert services.estimate_import(imp).videos != count
    assert credits_for(org).reserved == 0 and not Batch.objects.filter(organization=org).exists()

    before = credits_for(org)
    response = api.post(
        f"/api/v1/imports/{imp.pk}/confirm", {**body, "expected_credits": estimate["credits"]}, format="json"
    )
    assert response.status_code == 201, response.content
    jobs = list(Job.objects.filter(batch_id=response.json()["id"]).select_related("market", "photo__product"))
    assert len(jobs) == count and {j.format for j in jobs} == {"ad"}
    assert credits_for(org).reserved - before.reserved == estimate["credits"] == sum(j.credits for j in jobs)
    assert ledger_is_consistent(org)
    for job in jobs:
        product = job.photo.product
        # The stored storyboard is the estimate's length, of every photo of its product, for its market.
        assert job.storyboard["frames"] == AD_SECONDS * job.fps and job.seconds == AD_SECONDS
        assert sorted(job.ad_photos) == sorted(Photo.objects.filter(product=product).values_list("pk", flat=True))
        assert len(job.ad_photos) == PRODUCTS[product.sku]
        assert job.storyboard["market"] == job.market.slug and job.storyboard["shots"][-1]["kind"] == "endcard"
    assert {(j.photo.product.sku, j.market.slug) for j in jobs} == {(s, m) for s in PRODUCTS for m in MARKETS}
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.CONFIRMED and imp.options["output"] == "ads"
    # Confirming again answers the same batch; nothing more is reserved.
    again = api.post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json")
    assert again.json()["id"] == response.json()["id"] and Job.objects.filter(organization=org).count() == count


OURS = "sku,title,image_url,markets,aspect_ratios"


def _our_import(org, server) -> CatalogImport:
    grant_credits(organization=org, credits=5000, reason="ads import tests")
    lines = [
        OURS,
        f"AD-1,Felt tote,{server.image('/a1.jpg', product_jpeg(61, (256, 320)))}|"
        f"{server.image('/a2.jpg', product_jpeg(62, (256, 320)))},us,",
        f"AD-2,Wide mug,{server.image('/b1.jpg', product_jpeg(63, (256, 320)))},us,16:9",
    ]
    imp = services.stage_import(organization=org, csv_upload=csv_bytes(lines), filename="ads.csv")
    imp = services.process_import(imp.pk)
    assert imp.status == CatalogImport.Status.READY and imp.rows_valid == 2
    return imp


def test_a_product_the_platform_refuses_is_a_row_issue_and_the_others_go(org, allow_server):
    imp = _our_import(org, allow_server)
    options = services.VideoOptions(output="ads", ad_seconds=10, ad_platform="tiktok")
    estimate = services.estimate_import(imp, options)
    assert estimate.confirmable and estimate.videos == 1 and [a["sku"] for a in estimate.ads] == ["AD-1"]
    assert [(i["row"], i["column"], i["code"], i["fix"]) for i in estimate.skipped] == [
        (3, "aspect_ratios", "aspect_not_allowed", "edit_file")
    ]
    api = _api(org)
    body = {"output": "ads", "ad_seconds": 10, "ad_platform": "tiktok"}
    answer = api.post(f"/api/v1/imports/{imp.pk}/estimate", body, format="json").json()
    assert answer["credits"] == estimate.credits and answer["skipped"][0]["code"] == "aspect_not_allowed"
    assert answer["skipped"][0]["how_to_fix"] == "Correct the file and upload it again."

    batch = services.confirm_import(catalog_import=imp, video_options=options, expected_credits=estimate.credits)
    jobs = list(Job.objects.filter(batch=batch))
    assert [j.photo.product.sku for j in jobs] == ["AD-1"] and len(jobs[0].ad_photos) == 2
    assert (jobs[0].platform, jobs[0].aspect_ratio, jobs[0].seconds) == ("tiktok", "9:16", 10)
    assert credits_for(org).reserved == estimate.credits == jobs[0].credits
    assert not Job.objects.filter(organization=org, photo__product__sku="AD-2").exists()
    # The refusal stays in the import's report, with its fix, beside the other row issues.
    entries = [e for e in report_entries(imp) if e.code == "aspect_not_allowed"]
    assert [(e.row, e.column, e.fix) for e in entries] == [(3, "aspect_ratios", "edit_file")]
    assert "TikTok" in entries[0].message and entries[0].how_to_fix
    report = api.get(f"/api/v1/imports/{imp.pk}/report").getvalue().decode("utf-8-sig")
    assert "aspect_not_allowed" in report


def test_a_length_no_market_takes_refuses_the_confirm_and_reserves_nothing(org, allow_server):
    imp = _our_import(org, allow_server)
    api = _api(org)
    body = {"output": "ads", "ad_seconds": 10, "ad_platform": "youtube"}  # YouTube ads: 6, 15, 30 or 60 s
    response = api.post(f"/api/v1/imports/{imp.pk}/estimate", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ad_length_not_allowed"
    assert {(i["row"], i["column"]) for i in error["issues"]} == {(2, "ad_seconds"), (3, "ad_seconds")}
    response = api.post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "ad_length_not_allowed"
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.READY and imp.batch_id is None
    assert credits_for(org).reserved == 0 and not Product.objects.filter(organization=org).exists()
    assert not Job.objects.filter(organization=org).exists()
    # A bad output is the API's validation error, never a 500.
    response = api.post(f"/api/v1/imports/{imp.pk}/estimate", {"output": "gifs"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_the_dashboard_prices_the_ads_beside_the_balance_and_confirms_them(client, member, allow_server):
    org = member.organization
    imp = _our_import(org, allow_server)
    assert client.login(username=member.user.username, password=PASSWORD)
    url = reverse("dashboard:import_detail", args=[imp.pk])
    detail = client.get(url).content.decode()
    assert 'name="output"' in detail and 'name="ad_seconds"' in detail
    params = {"output": "ads", "ad_seconds": "10", "platform": "tiktok"}
    html = client.get(url, params, HTTP_HX_REQUEST="true").content.decode()
    estimate = services.estimate_import(imp, services.VideoOptions(output="ads", ad_seconds=10, platform="tiktok"))
    assert f'data-ads="1" data-credits="{estimate.credits}"' in html
    assert "Confirming makes 1 ad (one per product and market) for" in html
    available = credits_for(org).available
    assert f'data-credit-standing data-available="{available}"' in html  # the balance beside the price
    assert 'id="import-estimate-skipped"' in html and "aspect_not_allowed" in html
    assert "Correct the file and upload it again." in html
    confirm_url = reverse("dashboard:import_confirm", args=[imp.pk])
    response = client.post(confirm_url, {**params, "expected_credits": estimate.credits})
    assert response.status_code == 302
    jobs = Job.objects.filter(organization=org)
    assert [(j.format, j.photo.product.sku) for j in jobs] == [("ad", "AD-1")]
    assert credits_for(org).reserved == estimate.credits


def test_the_ads_price_reads_in_simplified_chinese(client, member, allow_server, settings):
    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0)  # what `make install` does (git-ignored)
    trans_real._translations = {}  # the catalogue as it is now, not one cached by an earlier test
    try:
        imp = _our_import(member.organization, allow_server)
        assert client.login(username=member.user.username, password=PASSWORD)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        url = reverse("dashboard:import_detail", args=[imp.pk])
        detail = client.get(url).content.decode()
        assert "广告时长" in detail and "10 秒" in detail and "10 seconds" not in detail
        html = client.get(url, {"output": "ads", "ad_seconds": "10", "platform": "tiktok"}, HTTP_HX_REQUEST="true")
        text = html.content.decode()
        assert "确认后将在一个批次中制作 1 个广告" in text and "以下商品不会制作广告" in text
        assert "Confirming makes" not in text and "Correct the file" not in text
    finally:
        trans_real._translations = {}


def test_our_format_names_a_rows_ad_length_and_platform(org, allow_server):
    grant_credits(organization=org, credits=5000, reason="ads import tests")
    photo = lambda name, seed: allow_server.image(f"/{name}.jpg", product_jpeg(seed, (256, 320)))  # noqa: E731
    lines = [
        "sku,title,image_url,markets,ad_seconds,ad_platform",
        f"R-1,Short one,{photo('r1', 71)},us,6,",
        f"R-2,Bumper,{photo('r2', 72)},us,10,youtube",
        f"R-3,Typo,{photo('r3', 73)},us,ten,myspace",
    ]
    imp = services.stage_import(organization=org, csv_upload=csv_bytes(lines), filename="own.csv")
    # Values that are not a length or a platform at all are the file's row issues at once.
    staged = {(e.row, e.column, e.code) for e in report_entries(imp)}
    assert staged == {(4, "ad_seconds", "invalid_ad_seconds"), (4, "ad_platform", "unknown_platform")}
    imp = services.process_import(imp.pk)
    estimate = services.estimate_import(imp, services.VideoOptions(output="ads", ad_seconds=30))
    # R-1 takes its own 6 s (not the import's 30 s); YouTube takes no 10 s ad: R-2 is fixed in the file.
    assert [(a["sku"], a["seconds"]) for a in estimate.ads] == [("R-1", 6.0)]
    assert [(i["row"], i["column"], i["code"], i["fix"]) for i in estimate.skipped] == [
        (3, "ad_seconds", "ad_length_not_allowed", "edit_file")
    ]


def test_a_woocommerce_product_with_several_images_is_one_ad_from_the_command_line(org, allow_server, tmp_path):
    from tests.imports.test_platforms import woo_export

    grant_credits(organization=org, credits=5000, reason="ads import tests")
    path = tmp_path / "woo.csv"
    path.write_bytes(woo_export(allow_server))  # the hoodie: two URLs in its Images cell and a variation's image
    out = io.StringIO()
    args = ["--org", org.slug, "--markets", "de", "--ads", "--ad-seconds", "6", "--confirm"]
    call_command("import_catalog", str(path), *args, stdout=out)
    one_ad = pricing.credits_for_video(engine="compositor", resolution="480p", seconds=6)
    assert f"confirming makes 2 ad(s) for {2 * one_ad} credits" in out.getvalue()
    jobs = {j.photo.product.sku: j for j in Job.objects.filter(organization=org).select_related("photo__product")}
    assert set(jobs) == {"woo-hoodie", "woo-cap"} and {j.format for j in jobs.values()} == {"ad"}
    assert (len(jobs["woo-hoodie"].ad_photos), len(jobs["woo-cap"].ad_photos)) == (3, 1)
    assert credits_for(org).reserved == 2 * one_ad


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_in_chromium_asking_for_ads_prices_them_and_confirms_that_price(page, live_server, allow_server):  # noqa: F811 (the fixture)
    ensure_presets()
    org = MembershipFactory(user__username="ad@example.com", user__email="ad@example.com").organization
    imp = _our_import(org, allow_server)
    base = live_server.url
    log_in(page, base, "ad@example.com")
    page.goto(f"{base}{reverse('dashboard:import_detail', args=[imp.pk])}")
    page.get_by_label("Ads: one per product and market, with all its photos").check()
    page.locator("#id_ad_seconds").select_option("10")
    page.locator("#id_platform").select_option("tiktok")
    estimate = services.estimate_import(imp, services.VideoOptions(output="ads", ad_seconds=10, platform="tiktok"))
    page.wait_for_selector(f'#import-estimate [data-ads="1"][data-credits="{estimate.credits}"]')
    assert "aspect_not_allowed" in page.locator("#import-estimate-skipped").inner_text()
    assert page.locator("#import-estimate [data-credit-standing]").is_visible()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Confirm and make the videos").click()
    page.wait_for_url(re.compile(r".*/batches/\d+/$"))
    batch = Batch.objects.get(organization=org)
    assert list(batch.jobs.values_list("format", "seconds", "platform")) == [("ad", 10, "tiktok")]
    assert credits_for(org).reserved == estimate.credits
    assert page.js_errors == []
