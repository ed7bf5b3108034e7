"""The ad's end card: Arabic from the right edge, Japanese and Thai in fonts that have their glyphs, the price
as the market writes it, everything inside the platform's safe area and clear of the product."""

import numpy as np
import pytest
from PIL import features

from generation.pipeline import captions
from generation.pipeline.ads import endcard
from generation.pipeline.layout import frame_extent, mask_bbox
from generation.presets import MARKETS_BY_SLUG
from tests import synthetic

TITLES = {"sa": "حقيبة قماشية كبيرة للتسوق", "jp": "本革リュック", "th": "กระเป๋าผ้าใบ", "us": "Canvas tote bag"}


def _content(market: str):
    return captions.caption_content(MARKETS_BY_SLUG[market], title=TITLES[market], price="19.99")


def test_arabic_lines_start_at_the_right_edge():
    assert features.check("raqm")  # shaping and bidi: without raqm Arabic would be drawn unjoined, left to right
    content = _content("sa")
    assert content.direction == "rtl" and "ر.س" in content.price
    width = 420
    heights = [h for _, _, h in endcard.text_lines(content, width=width, short_side=480)]
    lines = endcard.ink_columns(endcard.render_text(content, width=width, short_side=480), heights)
    assert len(lines) >= 3  # title, price, call to action
    rights = [right for _, right in lines]
    lefts = [left for left, _ in lines]
    # Every line ends at the right edge; shorter lines leave room on the left. Drawn left to right, every line
    # would start at column 0 instead and end wherever its text does.
    assert max(rights) - min(rights) <= 3 and min(rights) >= width - 6
    assert max(lefts) > 100
    us = _content("us")
    heights = [h for _, _, h in endcard.text_lines(us, width=width, short_side=480)]
    ltr = endcard.ink_columns(endcard.render_text(us, width=width, short_side=480), heights)
    assert max(left for left, _ in ltr) <= 3 and max(r for _, r in ltr) - min(r for _, r in ltr) > 50


@pytest.mark.parametrize(("market", "script"), [("jp", "ja"), ("th", "thai")])
def test_japanese_and_thai_are_drawn_in_fonts_that_have_their_glyphs(market, script):
    content = _content(market)
    runs = captions.font_runs(content.title, content.language)
    # font_runs gives a character to a font only when the glyph it draws differs from that font's .notdef box.
    assert [r.script for r in runs] == [script]
    assert captions.font_path(script) is not None
    block = endcard.render_text(content, width=400, short_side=480)
    tofu = endcard.render_text(
        captions.CaptionContent("\U0010fffd" * len(content.title), content.price, content.cta, content.language, "ltr"),
        width=400,
        short_side=480,
    )
    assert not np.array_equal(block, tofu)
    assert (block[..., 3] > 127).sum() > 500


@pytest.mark.parametrize("market", ["sa", "us"])
def test_the_card_is_inside_the_safe_area_and_clear_of_the_product(market):
    _, mask = synthetic.studio_photo(width=360, height=450)
    mask = mask.astype(np.uint8) * 255
    plan = endcard.plan_endcard(_content(market), width=480, height=832, platform="tiktok")
    sx0, sy0, sx1, sy1 = plan.safe_rect
    tx0, ty0, tx1, ty1 = plan.text_rect
    assert sx0 <= tx0 and tx1 <= sx1 and sy0 <= ty0 and ty1 <= sy1
    placements = endcard.card_placements(plan, mask, 30)
    assert np.abs(np.linalg.det(placements[:, :, :2])).max() <= 1.0  # never beyond one photo pixel per pixel
    ext = frame_extent(placements, mask_bbox(mask))
    assert (ext[:, 3] < ty0).all() and (ext[:, 1] >= sy0).all()
