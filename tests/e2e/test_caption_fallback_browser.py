"""The video page says, in Chromium, when a caption fell back to the product's original title, and links to where
the merchant adds the localized one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generation.pipeline.captions import caption_content
from generation.presets import MARKETS_BY_SLUG
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory, market
from tests.integration.test_files import make_video

from .test_languages import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _video(*, localized: dict[str, str] | None):
    owner = MembershipFactory(user__username="aiko@example.com", user__email="aiko@example.com")
    product = ProductFactory(organization=owner.organization, title="Amber glass bottle")
    job = JobFactory(photo=PhotoFactory(product=product), market=market("jp"), captions=True, state="succeeded")
    # The caption summary as the pipeline records it in the video's metadata.
    content = caption_content(MARKETS_BY_SLUG["jp"], title=product.title, localized_titles=localized)
    caption = {"title": content.title, "language": content.language, "title_localized": content.title_localized}
    return make_video(job, metadata={"captions": caption}), product


def test_the_video_page_says_the_caption_fell_back_and_links_to_add_the_title(page, live_server):
    video, product = _video(localized=None)
    base = live_server.url
    log_in(page, base, "aiko@example.com")
    page.goto(f"{base}{reverse('dashboard:video_detail', args=[video.pk])}")
    notice = page.locator("#caption-title-fallback")
    assert notice.is_visible()
    assert "original title" in notice.inner_text() and "Japanese" in notice.inner_text()
    notice.get_by_role("link", name="Add the localized title").click()
    page.wait_for_url(f"{base}{reverse('dashboard:product_detail', args=[product.pk])}#localizations")
    assert page.locator("#localizations").is_visible()
    assert page.js_errors == []


def test_a_caption_with_the_localized_title_has_no_notice(page, live_server):
    video, _product = _video(localized={"ja": "琥珀色のガラス瓶"})
    base = live_server.url
    log_in(page, base, "aiko@example.com")
    page.goto(f"{base}{reverse('dashboard:video_detail', args=[video.pk])}")
    assert page.locator("h1").is_visible()
    assert page.locator("#caption-title-fallback").count() == 0
