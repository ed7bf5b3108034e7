"""The video page's note on a caption that shows the original title, in Chinese, through the Django test client."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from tests.factories import JobFactory, PhotoFactory, ProductFactory, ensure_presets, market
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db


def test_the_fallback_note_is_in_chinese(client_a, org, settings, tmp_path):
    from django.utils.translation import trans_real

    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_presets()
    trans_real._translations = {}  # the compiled catalogue as it is now, not one cached by an earlier test
    client_a.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    product = ProductFactory(organization=org, title="Amber glass bottle")
    job = JobFactory(photo=PhotoFactory(product=product), market=market("jp"), captions=True)
    caption = {"title": product.title, "language": "ja", "title_localized": False}
    video = make_video(job, metadata={"captions": caption})
    text = client_a.get(reverse("dashboard:video_detail", args=[video.pk])).content.decode()
    found = re.search(r'<p class="notice" id="caption-title-fallback">(.*?)</p>', text, re.S)
    assert found, "the video page has no fallback note"
    note = html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    assert "字幕显示的是产品的原始标题" in note and "添加本地化标题" in note
    assert "original title" not in note
    assert f'href="{reverse("dashboard:product_detail", args=[product.pk])}#localizations"' in found.group(1)
