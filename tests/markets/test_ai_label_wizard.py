"""The variant wizard names the visible AI label: which markets draw it, its text, and why (English and Chinese)."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from generation.presets import MARKETS_BY_SLUG
from tests.factories import PhotoFactory, ProductFactory, ensure_presets

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _presets(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_presets()


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Amber glass bottle")
    PhotoFactory(product=product)
    return product


def _note(client, product) -> tuple[str, dict[str, str]]:
    text = client.get(reverse("dashboard:product_detail", args=[product.pk])).content.decode()
    found = re.search(r'<div class="help" id="ai-label-note">(.*?)</div>', text, re.S)
    assert found, "the wizard has no AI label note"
    note = found.group(1)
    items = dict(re.findall(r'<li data-market="(\w+)">(.*?)</li>', note, re.S))
    return _visible(note), {slug: _visible(item) for slug, item in items.items()}


def _visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_the_wizard_names_the_markets_that_draw_the_label_with_its_text_and_why(client_a, product):
    note, items = _note(client_a, product)
    assert set(items) == {slug for slug, preset in MARKETS_BY_SLUG.items() if preset.ai_label}
    assert "Germany" in items["de"] and "“Digital erstellt” (Compositor (CPU))" in items["de"]
    assert "South Korea" in items["kr"] and "“디지털 합성”" in items["kr"]
    assert "us" not in items and "jp" not in items
    assert "AI Act (article 50)" in note and "South Korea's AI Basic Act" in note
    assert "where the product never goes" in note


def test_the_wizards_label_note_is_in_chinese(client_a, product, settings):
    from django.utils.translation import trans_real

    trans_real._translations = {}  # the compiled catalogue as it is now, not one cached by an earlier test
    client_a.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    note, items = _note(client_a, product)
    assert "部分市场会在视频顶部一角" in note and "欧盟《人工智能法》（第 50 条）" in note
    assert "Some markets" not in note and "Why:" not in note
    assert "“Digital erstellt”" in items["de"]  # the label itself stays in the market's language, as in the video
