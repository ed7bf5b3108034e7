"""The price shown before a CSV import is confirmed is the price of what confirming with the chosen options makes:
the estimate takes the platform and caption options (service, dashboard's live price, API), goes through the same
row → VariantMatrix expansion as the confirm, and the confirmed batch reserves exactly that."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from billing.selectors import credits_for, ledger_is_consistent
from billing.services import grant_credits
from generation import services as gen_services
from generation.imports import confirm, services
from generation.models import Batch, CatalogImport, Job, MarketPreset, Product
from generation.pipeline.platforms import PLATFORMS
from shop_video.merchants.api_keys import create_api_key
from tests.e2e.conftest import browser_context, page  # noqa: F401 (the e2e tests' Chromium, imported fixtures)
from tests.e2e.test_languages import log_in
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, ensure_presets
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db

HEADER = "sku,title,image_url,markets,aspect_ratios,seconds,price"
# (sku, markets, aspect ratios, seconds): F-1 and F-3 name no format, so a platform changes theirs.
ROWS = [
    ("F-1", ["de"], [], [5]),
    ("F-2", ["us", "jp"], ["9:16"], [10]),
    ("F-3", ["us"], [], [5, 10]),
]
RESOLUTION = "720p"


@pytest.fixture(autouse=True)
def _english_and_no_broker(monkeypatch):
    monkeypatch.setattr(gen_services.dispatch, "_send", lambda *args, **kwargs: None)
    with translation.override("en"):  # an earlier test may leave another language active in this thread
        yield


def _csv_line(sku: str, markets: list[str], aspects: list[str], seconds: list[int], url: str, price="9.90") -> str:
    return ",".join([sku, f"Felt {sku}", url, "|".join(markets), "|".join(aspects), "|".join(map(str, seconds)), price])


def _ready_import(org, server, extra: list[str] = (), *, stage_only: bool = False) -> CatalogImport:
    grant_credits(organization=org, credits=5000, reason="import estimate tests")
    lines = [HEADER]
    for n, (sku, markets, aspects, seconds) in enumerate(ROWS):
        lines.append(_csv_line(sku, markets, aspects, seconds, server.image(f"/{sku}.jpg", product_jpeg(80 + n))))
    for n, line in enumerate(extra):
        lines.append(line.replace("{url}", server.image(f"/extra{n}.jpg", product_jpeg(90 + n))))
    imp = services.stage_import(
        organization=org, csv_upload=csv_bytes(lines), filename="felt.csv", options={"resolution": RESOLUTION}
    )
    if stage_only:
        return imp
    imp = services.process_import(imp.pk)
    assert imp.status == CatalogImport.Status.READY, list(imp.rows.values_list("issues", flat=True))
    return imp


def _expected(platform: str = "") -> tuple[int, int, float]:
    """Videos, credits and seconds computed here from the rows, the market presets' platforms and the price list:
    a row with no format gets the platform's formats, else those of its market's platforms."""
    from django.conf import settings

    per_second = settings.SHOPVIDEO_PRICING["compositor"][RESOLUTION]
    videos = credits = seconds_total = 0
    for _sku, markets, aspects, seconds in ROWS:
        for slug in markets:
            if aspects:
                formats = aspects
            elif platform:
                formats = list(PLATFORMS[platform].aspects)
            else:
                market_platforms = MarketPreset.objects.get(slug=slug).platforms
                formats = list(dict.fromkeys(a for p in market_platforms for a in PLATFORMS[p].aspects))
            for _format in formats:
                for secs in seconds:
                    videos += 1
                    credits += per_second * secs
                    seconds_total += secs
    return videos, credits, float(seconds_total)


def _api(org) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=org, name='t')[1]}")
    return api


def _nothing_made(org, imp: CatalogImport) -> None:
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.READY and imp.batch_id is None
    assert "platform" not in imp.options
    assert not Batch.objects.filter(organization=org).exists()
    assert not Product.objects.filter(organization=org).exists()
    assert credits_for(org).reserved == 0


# --- the service ----------------------------------------------------------------------------------------------


def test_a_platform_changes_the_estimate_of_rows_that_name_no_format(org, allow_server):
    imp = _ready_import(org, allow_server)
    plain = services.estimate_import(imp)
    tiktok = services.estimate_import(imp, services.VideoOptions(platform="tiktok"))
    assert (plain.videos, plain.credits, plain.seconds) == _expected()
    assert (tiktok.videos, tiktok.credits, tiktok.seconds) == _expected("tiktok")
    # By hand: de and us have 4 formats each through their platforms (9:16, 16:9, 1:1, 4:5), TikTok one;
    # 720p costs 2 credits a second. F-1 4×5 s, F-2 2×10 s, F-3 4×(5+10) s → 14 videos, 100 s;
    # for TikTok 5 s, 2×10 s, 5+10 s → 5 videos, 40 s.
    assert (plain.videos, plain.credits) == (14, 200)
    assert (tiktok.videos, tiktok.credits) == (5, 80)
    assert plain.confirmable and tiktok.confirmable
    # Captions change no price, and the estimate stores nothing.
    captioned = services.estimate_import(
        imp, services.VideoOptions(platform="tiktok", captions=True, caption_price=True, caption_cta=True)
    )
    assert (captioned.videos, captioned.credits) == (5, 80)
    _nothing_made(org, imp)


def test_the_confirmed_batch_reserves_exactly_the_estimate(org, allow_server):
    imp = _ready_import(org, allow_server)
    options = services.VideoOptions(platform="tiktok", captions=True, caption_price=True)
    estimate = services.estimate_import(imp, options)
    before = credits_for(org)
    batch = services.confirm_import(catalog_import=imp, video_options=options, expected_credits=estimate.credits)
    after = credits_for(org)
    assert after.reserved - before.reserved == estimate.credits == 80
    assert after.balance == before.balance  # reserved, not yet captured
    jobs = Job.objects.filter(batch=batch)
    assert jobs.count() == estimate.videos
    assert sum(j.credits for j in jobs) == estimate.credits
    assert {j.aspect_ratio for j in jobs} == {"9:16"}
    assert ledger_is_consistent(org)


def _refused_confirm(imp: CatalogImport, options: services.VideoOptions) -> services.ImportNotConfirmable:
    with pytest.raises(services.ImportNotConfirmable) as refused:
        services.confirm_import(catalog_import=imp, video_options=options)
    return refused.value


@pytest.mark.parametrize(
    ("extra", "options", "code", "issue_at"),
    [
        (
            ["W-1,Wide,{url},de,16:9,5,9.90"],
            services.VideoOptions(platform="tiktok"),
            "platform_rule",
            [(5, "aspect_ratios")],
        ),
        (["N-1,No price,{url},de,9:16,5,"], services.VideoOptions(captions=True, caption_price=True), None, None),
        ([], services.VideoOptions(caption_price=True), "caption_options", [(0, "captions")]),
    ],
    ids=["platform_rule", "caption_price_missing", "caption_options"],
)
def test_options_confirm_would_refuse_give_the_same_code_and_rows(org, allow_server, extra, options, code, issue_at):
    code = code or "caption_price_missing"
    issue_at = issue_at or [(5, "price")]
    imp = _ready_import(org, allow_server, extra)
    estimate = services.estimate_import(imp, options)
    assert not estimate.confirmable and (estimate.videos, estimate.credits) == (0, 0)
    assert [(i["row"], i["column"]) for i in estimate.issues] == issue_at
    refused = _refused_confirm(imp, options)
    assert refused.code == code == services.refusal(list(estimate.issues), estimating=True).code
    assert refused.issues == list(estimate.issues)
    _nothing_made(org, imp)


def test_the_batch_size_limit_depends_on_the_options(org, allow_server, settings):
    settings.SHOPVIDEO_MAX_VIDEOS_PER_BATCH = 10
    imp = _ready_import(org, allow_server)
    plain = services.estimate_import(imp)  # 14 videos
    assert [(i["row"], i["column"], i["code"]) for i in plain.issues] == [(0, "matrix", "invalid_matrix")]
    assert "14 videos; at most 10" in plain.issues[0]["message"]
    assert _refused_confirm(imp, services.VideoOptions()).code == "invalid_matrix"
    tiktok = services.estimate_import(imp, services.VideoOptions(platform="tiktok"))  # 5 videos
    assert tiktok.confirmable and tiktok.videos == 5
    assert services.confirm_import(catalog_import=imp, video_options=services.VideoOptions(platform="tiktok"))


def test_a_price_that_is_no_longer_the_price_makes_nothing(org, allow_server):
    imp = _ready_import(org, allow_server)
    shown = services.estimate_import(imp).credits  # shown without a platform…
    with pytest.raises(services.ImportNotConfirmable) as refused:  # … confirmed with one
        services.confirm_import(
            catalog_import=imp, video_options=services.VideoOptions(platform="tiktok"), expected_credits=shown
        )
    assert refused.value.code == "price_changed" and "now 80 credits" in refused.value.message
    _nothing_made(org, imp)


def test_a_batch_that_differs_from_the_plan_is_rolled_back(org, allow_server, monkeypatch):
    """The guard after submit: were the plan and the submitted jobs ever to disagree, nothing is kept."""
    imp = _ready_import(org, allow_server)
    real_plan = confirm._plan

    def plan_one_credit_short(imp, options):
        planned = real_plan(imp, options)
        return services.ImportEstimate(planned.videos, planned.credits - 1, planned.seconds, (), options)

    monkeypatch.setattr(confirm, "_plan", plan_one_credit_short)
    assert _refused_confirm(imp, services.VideoOptions()).code == "price_changed"
    _nothing_made(org, imp)
    assert not Job.objects.filter(organization=org).exists()


# --- dashboard ------------------------------------------------------------------------------------------------


def _login(client, membership) -> None:
    assert client.login(username=membership.user.username, password=PASSWORD)


def _fragment(client, imp: CatalogImport, params: dict):
    return client.get(reverse("dashboard:import_detail", args=[imp.pk]), params, HTTP_HX_REQUEST="true")


def test_the_confirm_form_prices_its_options_live_and_confirms_at_that_price(client, member, allow_server):
    org = member.organization
    imp = _ready_import(org, allow_server)
    _login(client, member)
    response = client.get(reverse("dashboard:import_detail", args=[imp.pk]))
    html = response.content.decode()
    videos, credits, _s = _expected()
    assert f'data-videos="{videos}" data-credits="{credits}"' in html
    assert f"Confirming makes {videos} videos for {credits} credits" in html
    form = html.split('id="import-confirm"')[0].rsplit("<form", 1)[1] + html.split('id="import-confirm"')[1]
    assert f'hx-get="{reverse("dashboard:import_detail", args=[imp.pk])}"' in form
    assert 'hx-target="#import-estimate"' in form and 'hx-trigger="change"' in form
    assert "HX-Request" in response["Vary"]

    chosen = {"platform": "tiktok", "captions": "on", "caption_price": "on"}
    fragment = _fragment(client, imp, chosen)
    assert fragment.status_code == 200 and "HX-Request" in fragment["Vary"]
    text = fragment.content.decode()
    assert "<html" not in text and "<form" not in text  # only the price, swapped into #import-estimate
    videos, credits, _s = _expected("tiktok")
    assert f'data-videos="{videos}" data-credits="{credits}"' in text
    assert f"Confirming makes {videos} videos for {credits} credits" in text
    assert f'name="expected_credits" value="{credits}" form="import-confirm"' in text

    response = client.post(
        reverse("dashboard:import_confirm", args=[imp.pk]), {**chosen, "expected_credits": str(credits)}
    )
    batch = Batch.objects.get(organization=org)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:batch_detail", args=[batch.pk])
    assert credits_for(org).reserved == credits == sum(batch.jobs.values_list("credits", flat=True))
    assert batch.jobs.count() == videos


def test_the_confirm_price_shows_the_balance_beside_it(client, member, allow_server):
    org = member.organization
    imp = _ready_import(org, allow_server)
    _login(client, member)
    available = credits_for(org).available
    text = _fragment(client, imp, {"platform": "tiktok"}).content.decode()
    assert f'data-credit-standing data-available="{available}" data-missing="0"' in text
    assert f"Balance: {available} credits available" in text
    assert f'data-get-credits href="{reverse("billing:overview")}' in text


def test_the_live_price_names_the_rows_the_options_rule_out(client, member, allow_server):
    imp = _ready_import(member.organization, allow_server, ["W-1,Wide,{url},de,16:9,5,9.90"])
    _login(client, member)
    text = _fragment(client, imp, {"platform": "tiktok"}).content.decode()
    assert "Cannot be confirmed with these options: 1 row breaks them. Row 5: " in text
    issues = text.split('id="import-estimate-issues"')[1].split("</table>")[0]
    assert "<td>5</td>" in issues and "platform_rule" in issues and "rule aspect_ratio" in issues
    assert "expected_credits" not in text and "data-credits" not in text  # no price for what cannot be made
    # An option the form itself refuses: its message instead of a price.
    text = _fragment(client, imp, {"platform": "myspace"}).content.decode()
    assert "is-invalid" in text and "myspace" in text and "data-credits" not in text


def test_a_stale_price_on_the_page_confirms_nothing_and_shows_the_new_one(client, member, allow_server):
    org = member.organization
    imp = _ready_import(org, allow_server)
    _login(client, member)
    _videos, old_price, _s = _expected()
    response = client.post(
        reverse("dashboard:import_confirm", args=[imp.pk]), {"platform": "tiktok", "expected_credits": old_price}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:import_detail", args=[imp.pk])
    html = client.get(response["Location"]).content.decode()
    assert "The price changed since it was shown: it is now 80 credits." in html
    _nothing_made(org, imp)


def test_another_organizations_import_has_no_live_price(client, member, allow_server):
    imp = _ready_import(OrganizationFactory(), allow_server)
    _login(client, member)
    assert _fragment(client, imp, {"platform": "tiktok"}).status_code == 404


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_price_follows_the_options_and_is_what_is_reserved(page, live_server, allow_server):  # noqa: F811 (the fixture)
    ensure_presets()
    org = MembershipFactory(user__username="li@example.com", user__email="li@example.com").organization
    imp = _ready_import(org, allow_server)
    base = live_server.url
    log_in(page, base, "li@example.com")
    page.goto(f"{base}{reverse('dashboard:import_detail', args=[imp.pk])}")
    price = page.locator("#import-estimate [data-estimate]")
    assert price.get_attribute("data-credits") == "200"
    page.locator("#id_platform").select_option("tiktok")
    page.wait_for_selector('#import-estimate [data-credits="80"]')
    assert "Confirming makes 5 videos for 80 credits" in price.inner_text()
    page.locator("#id_captions").check()
    page.locator("#id_caption_price").check()
    page.wait_for_load_state("networkidle")
    assert price.get_attribute("data-credits") == "80"
    page.get_by_role("button", name="Confirm and make the videos").click()
    batch_url = re.compile(r".*/batches/\d+/$")
    page.wait_for_url(batch_url)
    batch = Batch.objects.get(organization=org)
    assert credits_for(org).reserved == 80 == sum(batch.jobs.values_list("credits", flat=True))
    assert set(batch.jobs.values_list("platform", "captions", "caption_price")) == {("tiktok", True, True)}
    assert page.js_errors == []


# --- API ------------------------------------------------------------------------------------------------------


def test_api_estimate_takes_the_confirm_body(org, allow_server):
    imp = _ready_import(org, allow_server)
    api = _api(org)
    url = f"/api/v1/imports/{imp.pk}/estimate"
    plain = api.post(url, {}, format="json")
    assert plain.status_code == 200, plain.content
    videos, credits, seconds = _expected()
    assert plain.json() == {"credits": credits, "videos": videos, "seconds": seconds}
    assert api.post(url).json() == plain.json()  # an empty body, like confirm's
    body = {"platform": "tiktok", "captions": {"enabled": True, "price": True, "cta": False}}
    tiktok = api.post(url, body, format="json")
    videos, credits, seconds = _expected("tiktok")
    assert tiktok.status_code == 200 and tiktok.json() == {"credits": credits, "videos": videos, "seconds": seconds}
    # The GET's price is the one without options.
    assert api.get(f"/api/v1/imports/{imp.pk}").json()["estimate"] == {"credits": 200, "videos": 14}
    _nothing_made(org, imp)

    confirmed = api.post(f"/api/v1/imports/{imp.pk}/confirm", {**body, "expected_credits": credits}, format="json")
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["job_count"] == videos
    assert credits_for(org).reserved == credits
    again = api.post(url, body, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "import_confirmed"


@pytest.mark.parametrize(
    ("extra", "body", "code"),
    [
        (["W-1,Wide,{url},de,16:9,5,9.90"], {"platform": "tiktok"}, "platform_rule"),
        (["N-1,No price,{url},de,9:16,5,"], {"captions": {"enabled": True, "price": True}}, "caption_price_missing"),
        ([], {"captions": {"enabled": False, "cta": True}}, "caption_options"),
        ([], {"platform": "myspace"}, "validation_error"),
        ([], {"platfrom": "tiktok"}, "validation_error"),
    ],
)
def test_api_estimate_refuses_what_confirm_refuses_with_the_same_error(org, allow_server, extra, body, code):
    imp = _ready_import(org, allow_server, extra)
    api = _api(org)
    estimate = api.post(f"/api/v1/imports/{imp.pk}/estimate", body, format="json")
    assert estimate.status_code == 400, estimate.content
    error = estimate.json()["error"]
    assert error["code"] == code and set(error) >= {"code", "message", "fields"}
    confirm = api.post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json")
    assert confirm.status_code == 400 and confirm.json()["error"]["code"] == code
    assert error.get("issues") == confirm.json()["error"].get("issues")
    assert error["fields"].keys() == confirm.json()["error"]["fields"].keys()
    if code == "platform_rule":
        assert error["message"].startswith("Cannot be confirmed with these options: 1 row breaks them. Row 5: ")
        assert [(i["row"], i["column"], i["code"]) for i in error["issues"]] == [(5, "aspect_ratios", code)]
    _nothing_made(org, imp)


def test_api_estimate_of_another_organization_or_an_unready_import(org, allow_server):
    imp = _ready_import(org, allow_server)
    stranger = _api(OrganizationFactory())
    response = stranger.post(f"/api/v1/imports/{imp.pk}/estimate", {"platform": "tiktok"}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    other = OrganizationFactory()
    fetching = _ready_import(other, allow_server, ["Z-1,Late,{url},de,9:16,5,1.00"], stage_only=True)
    assert fetching.status == CatalogImport.Status.FETCHING
    response = _api(other).post(f"/api/v1/imports/{fetching.pk}/estimate", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "import_not_ready"


def test_api_stale_expected_credits_is_a_409_and_makes_nothing(org, allow_server):
    imp = _ready_import(org, allow_server)
    api = _api(org)
    body = {"platform": "tiktok", "expected_credits": 200}
    response = api.post(f"/api/v1/imports/{imp.pk}/confirm", body, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "price_changed"
    _nothing_made(org, imp)


def test_the_estimate_is_in_the_openapi_schema_with_examples(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/imports/{id}/estimate"]["post"]
    assert operation["operationId"] == "imports_estimate"
    request = operation["requestBody"]["content"]["application/json"]
    assert request["examples"]["ForTikTokWithCaptionsAndAPriceTag"]["value"]["platform"] == "tiktok"
    ok = operation["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/ImportEstimate")  # the price, and with ads each ad and skipped product
    assert ok["examples"]["ThePrice"]["value"] == {"credits": 40, "videos": 8, "seconds": 40.0}
    assert {"400", "404", "409"} <= operation["responses"].keys()
    confirm_body = schema["paths"]["/api/v1/imports/{id}/confirm"]["post"]["requestBody"]["content"]
    assert request["schema"] == confirm_body["application/json"]["schema"]  # the same body as confirm


def test_the_live_price_and_its_refusal_are_in_simplified_chinese(client, member, allow_server, settings):
    from pathlib import Path

    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0)  # what `make install` does (git-ignored)
    trans_real._translations = {}  # the catalogue as it is now, not one cached by an earlier test
    try:
        imp = _ready_import(member.organization, allow_server, ["W-1,Wide,{url},de,16:9,5,9.90"])
        _login(client, member)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        page = client.get(reverse("dashboard:import_detail", args=[imp.pk])).content.decode()
        assert "以上价格随这些选项更新" in page and "The price above follows" not in page
        refused = _fragment(client, imp, {"platform": "tiktok"}).content.decode()
        assert "使用这些选项无法确认：1 行不符合。第 5 行：" in refused
        assert "Cannot be confirmed" not in refused
        priced = _fragment(client, imp, {}).content.decode()
        assert "确认后将在一个批次中制作" in priced and "Confirming makes" not in priced
        response = client.post(
            reverse("dashboard:import_confirm", args=[imp.pk]), {"platform": "", "expected_credits": 1}
        )
        stale = client.get(response["Location"]).content.decode()
        assert "价格自显示后已变化：现为 210 点数。" in stale and "The price changed" not in stale
    finally:
        trans_real._translations = {}
