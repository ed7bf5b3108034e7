"""A merchant who reads Chinese walks every main page of a shop with data in it: no visible English word is left,
except brand names, units and codes, and the shop's own data (titles, SKUs, names). Preset names (markets,
scenes, looks), credit packs and plans, ledger movements and their reasons are translated too."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.urls import reverse

from billing.services import ledger
from generation.imports import processing, services
from generation.presets import MARKETS_BY_SLUG
from tests.e2e.test_languages import VISIBLE_TEXT, log_in
from tests.e2e.test_phone_layout_browser import AD_QUERY
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory, ensure_presets
from tests.imports.conftest import csv_bytes, product_jpeg, zip_bytes
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Words that stay as they are in a Chinese page: brands, formats, units and technical names.
_ALLOWED_WORDS = """
ShopVideo TikTok Instagram Reels YouTube Shorts Amazon Shopify WooCommerce Stripe Wan VACE DiT C2PA
MP4 PSNR SSIM IoU URL URLs API CSV ZIP PNG JPEG JPG WebP HTTP HTTPS JSON SKU ID dB fps KB MB GB px
USD EUR HMAC SHA CTA AI OK htmx Webhook Webhooks REST CPU GPU WAV AAC OGG
"""
ALLOWED = {word.casefold() for word in _ALLOWED_WORDS.split()}
ALLOWED |= {slug.casefold() for slug in MARKETS_BY_SLUG}  # market codes (US, DE, …) next to their names
WORD = re.compile(r"[A-Za-z0-9_'’]+")
NO_SCAN = "code, kbd, samp, .mono, [translate=no]"  # codes and values shown as they are


def english_words(page, own: list[str]) -> list[str]:
    found = []
    for item in page.evaluate(
        VISIBLE_TEXT.replace(
            "script,style,noscript,template,[translate=no]", f"script,style,noscript,template,{NO_SCAN}"
        )
    ):
        text, lang = item["text"], item["lang"]
        if lang and not lang.startswith("zh"):
            continue  # the language switch names each language in its own language
        for value in own:
            text = text.replace(value, " ")
        # A token with a digit or an underscore is a unit, a format or a column name (480p, MP4, image_url).
        tokens = [w.strip("'’") for w in WORD.findall(text)]
        words = [w for w in tokens if len(w) > 1 and w.casefold() not in ALLOWED and not re.search(r"[\d_]", w)]
        if words:
            found.append(f"{' '.join(words)}  ←  {item['text'][:80]}")
    return found


@pytest.fixture
def shop(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_presets()
    owner = MembershipFactory(
        organization__name="Lin Studio", user__username="lin@example.com", user__email="lin@example.com"
    )
    org = owner.organization
    ledger.grant_signup_credits(org)
    product = ProductFactory(organization=org, title="Linen shirt", sku="LIN-7")
    photo = PhotoFactory(product=product, original_name="shirt.png")
    done = JobFactory(photo=photo, batch__name="Autumn drop", state="succeeded", progress=1.0, attempt=1)
    lost = JobFactory(photo=photo, batch=done.batch, state="failed", attempt=3)
    with transaction.atomic():
        ledger.reserve_jobs(organization=org, credits_by_job={done.pk: 5, lost.pk: 5})
        ledger.settle_jobs({done.pk: True, lost.pk: False})
    video = make_video(done)
    imp = services.stage_import(
        organization=org,
        csv_upload=csv_bytes(
            [
                "sku,title,image_file,markets,aspect_ratios",
                "LIN-8,Linen scarf,scarf.jpg,sa,1:1",
                "LIN-9,Linen cap,cap.jpg,us,1:1",
            ]
        ),
        zip_upload=zip_bytes({"scarf.jpg": product_jpeg(81)}),
    )
    processing.process_import(imp.pk)
    own = ["Lin Studio", "lin@example.com", "Linen shirt", "LIN-7", "shirt.png", "Autumn drop", "Linen scarf"]
    own += ["test credits", "Linen cap", "LIN-8", "LIN-9", "cap.jpg", "scarf.jpg", "catalogue.csv"]
    return {"org": org, "product": product, "batch": done.batch, "video": video, "import": imp, "own": own}


@pytest.mark.slow
def test_every_main_page_has_no_english_word_in_chinese(page, live_server, shop):
    base = live_server.url
    log_in(page, base, "lin@example.com")
    page.locator("form.lang button[value='zh-hans']").click()
    page.wait_for_load_state()
    pages = [
        ("home", reverse("dashboard:home")),
        ("products", reverse("dashboard:product_list")),
        ("product and the new videos wizard", reverse("dashboard:product_detail", args=[shop["product"].pk])),
        ("ad storyboard", reverse("dashboard:ad_new", args=[shop["product"].pk]) + AD_QUERY),
        ("new product", reverse("dashboard:product_create")),
        ("videos", reverse("dashboard:video_list")),
        ("video", reverse("dashboard:video_detail", args=[shop["video"].pk])),
        ("batches", reverse("dashboard:batch_list")),
        ("batch", reverse("dashboard:batch_detail", args=[shop["batch"].pk])),
        ("imports", reverse("dashboard:import_list")),
        ("import report", reverse("dashboard:import_detail", args=[shop["import"].pk])),
        ("credits", reverse("billing:overview")),
        ("usage", reverse("billing:usage")),
        ("looks", reverse("dashboard:look_list")),
        ("email settings", reverse("dashboard:notifications")),
        ("team", reverse("dashboard:team")),
        ("api keys", reverse("dashboard:api_keys")),
    ]
    problems = {}
    for name, url in pages:
        page.goto(f"{base}{url}")
        assert page.locator("html").get_attribute("lang") == "zh-hans", name
        found = english_words(page, shop["own"])
        if found:
            problems[name] = found
    assert problems == {}, "\n".join(f"{name}: {line}" for name, lines in problems.items() for line in lines)
    # The data-born names this walk is about, in Chinese where a Chinese reader sees them.
    page.goto(f"{base}{reverse('billing:overview')}")
    ledger_text = page.locator("table.ledger").inner_text()
    assert "已扣点数" in ledger_text and "欢迎点数" in ledger_text and "积分" not in page.content()
    page.goto(f"{base}{reverse('dashboard:import_list')}")
    assert page.get_by_label("沙特阿拉伯").count() == 1
    # The walk above read the import report with its fix: the failing image, how to fix it, a zip for the row.
    page.goto(f"{base}{reverse('dashboard:import_detail', args=[shop['import'].pk])}")
    assert page.locator("#import-recheck-failed").get_by_role("button", name="重新检查失败的行").is_visible()
    assert "如何修复" in page.locator("#import-issues thead").inner_text()
    assert page.js_errors == []
