"""Caption rendering with real Noto fonts and raqm: golden posters per script, Arabic shaping and order, breaking."""

import os
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, features

from generation.pipeline import captions
from generation.pipeline.errors import BadInputError
from generation.presets import MARKETS_BY_SLUG

GOLDEN = Path(__file__).parent / "golden"
WIDTH, HEIGHT = 480, 832
# Merchant-supplied localized titles (what the dashboard, API or CSV columns title_de, title_ja … carry).
TITLES = {
    "de": "Lederrucksack „Aurora“ mit Laptopfach",
    "jp": "本革リュックサック「オーロラ」ノートパソコン収納付き",
    "sa": "حقيبة ظهر جلدية Aurora مع جيب للحاسوب",
    "th": "กระเป๋าเป้หนังแท้ ออโรร่า ใส่โน้ตบุ๊กได้",
}
PRICES = {"de": "89.90", "jp": "12800", "sa": "349", "th": "2590"}


def test_the_noto_fonts_are_installed_and_found_by_path():
    assert features.check("raqm"), "Pillow without raqm cannot shape Arabic"
    found = captions.fonts_available()
    for script in ("latin", "arabic", "thai", "ja", "ko"):
        assert found[script], f"fonts for {script} missing: run `make install` (scripts/system-deps.sh)"


def _poster(market: str) -> tuple[np.ndarray, captions.CaptionPlan]:
    m = MARKETS_BY_SLUG[market]
    content = captions.caption_content(
        m, title="Leather backpack", localized_titles={m.caption_language: TITLES[market]}, price=PRICES[market]
    )
    plan = captions.plan_captions(content, width=WIDTH, height=HEIGHT, platform="tiktok")
    # A poster frame: a two-tone backdrop and a stand-in product in the product area.
    frame = np.full((1, HEIGHT, WIDTH, 3), (214, 208, 198), np.uint8)
    frame[0, HEIGHT // 2 :] = (188, 176, 160)
    ax0, ay0, ax1, ay1 = plan.product_area
    frame[0, ay0 + 60 : ay1 - 40, ax0 + 150 : ax1 - 150] = (150, 40, 40)
    captions.draw_captions(frame, plan, fade_frames=0)
    return frame[0], plan


@pytest.mark.parametrize("market", ["de", "jp", "sa", "th"])
def test_golden_poster_with_caption_and_price(market):
    frame, plan = _poster(market)
    path = GOLDEN / f"poster_{market}.png"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        Image.fromarray(frame).save(path, optimize=True)
    reference = np.asarray(Image.open(path).convert("RGB"))
    assert reference.shape == frame.shape
    diff = np.abs(frame.astype(np.int16) - reference.astype(np.int16))
    assert diff.mean() < 0.5, f"{market}: mean abs diff {diff.mean():.3f} against {path.name}"
    # Text was drawn only inside the caption's rectangle, which is inside TikTok's safe area.
    x0, y0, x1, y1 = plan.rect
    outside = diff.copy()
    outside[y0:y1, x0:x1] = 0
    assert outside.max() <= 2
    sx0, sy0, sx1, sy1 = plan.safe_rect
    assert sx0 <= x0 and sy0 <= y0 and x1 <= sx1 and y1 <= sy1
    assert y1 <= HEIGHT * 0.8 and x1 <= WIDTH * 0.85  # out of the bottom 20 % and the right 15 %


def _ink(text: str, language: str, direction: str, size: int = 64) -> np.ndarray:
    width = int(captions.text_width(text, language=language, size=size)) + 40
    image = Image.new("L", (width, size * 2), 0)
    captions.draw_line(
        ImageDraw.Draw(image),
        text,
        x=20,
        y=size // 3,
        width=width - 40,
        language=language,
        direction=direction,
        size=size,
        fill=(255,),
    )
    return np.asarray(image) > 96


def test_arabic_runs_right_to_left():
    # Alef (a tall stroke, not joining to the left) then beh: the first logical letter must be the rightmost.
    ink = _ink("اب", "ar", "rtl")
    heights = ink.sum(axis=0)
    alef_x = int(np.argmax(heights))
    cols = np.nonzero(heights)[0]
    assert alef_x > (cols.min() + cols.max()) / 2, "alef is not on the right: the line was laid out left to right"


def test_arabic_letters_are_joined():
    # Three seens joined make one connected stroke; drawn one by one (isolated forms) they make three.
    joined = _ink("سسس", "ar", "rtl")
    n_joined = cv2.connectedComponents(joined.astype(np.uint8))[0] - 1
    isolated = np.concatenate([_ink("س", "ar", "rtl") for _ in range(3)], axis=1)
    n_isolated = cv2.connectedComponents(isolated.astype(np.uint8))[0] - 1
    assert n_joined == 1 and n_isolated == 3
    # Joined forms are narrower than isolated ones (no final tails inside the word).
    assert captions.text_width("سسس", language="ar", size=64) < 3 * captions.text_width("س", language="ar", size=64)


def test_mixed_arabic_line_keeps_the_latin_word_between_its_neighbours():
    runs = captions.font_runs("حقيبة Aurora جلدية", "ar")
    assert [r.script for r in runs] == ["arabic", "latin", "arabic"]
    ink = _ink("حقيبة Aurora جلدية", "ar", "rtl")
    cols = np.nonzero(ink.any(axis=0))[0]
    gaps = np.nonzero(np.diff(cols) > 6)[0]
    assert len(gaps) >= 2, "the words should be separated by spaces on both sides of the Latin word"


def test_fallback_fonts_cover_digits_in_thai_prices():
    runs = captions.font_runs("฿2,590.00", "th")
    assert [r.script for r in runs] == ["thai", "latin"]  # Noto Sans Thai has no Latin digits


def test_japanese_breaks_between_characters_with_kinsoku():
    text = TITLES["jp"]
    lines = captions.wrap(text, max_width=200, language="ja", size=24, max_lines=10)
    assert len(lines) >= 3 and "".join(lines) == text
    for line in lines[1:]:
        assert line[0] not in "」』）、。ー", f"a line starts with {line[0]!r}"
    for line in lines[:-1]:
        assert line[-1] not in "「『（"


def test_thai_breaks_at_spaces_and_never_inside_a_cluster():
    text = TITLES["th"]
    lines = captions.wrap(text, max_width=260, language="th", size=24, max_lines=10)
    assert len(lines) == 2 and " ".join(lines) == text  # broken at a space, nowhere else
    long_word = "กระเป๋าเป้หนังแท้ใส่โน้ตบุ๊กได้"  # no spaces: broken between words (test_thai_breaking.py)
    lines = captions.wrap(long_word, max_width=120, language="th", size=24, max_lines=10)
    assert len(lines) >= 2 and "".join(lines) == long_word
    for line in lines:
        assert unicodedata.category(line[0]) != "Mn", f"line starts with a combining mark: {line!r}"
        assert captions.text_width(line, language="th", size=24) <= 120


def test_long_titles_are_cut_with_an_ellipsis():
    lines = captions.wrap("word " * 40, max_width=200, language="en", size=24, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")


def test_title_falls_back_to_the_original_never_a_translation():
    de = MARKETS_BY_SLUG["de"]
    assert captions.caption_content(de, title="Leather backpack").title == "Leather backpack"
    got = captions.caption_content(de, title="Leather backpack", localized_titles={"ja": "本革", "de": "Rucksack"})
    assert got.title == "Rucksack" and got.cta == de.call_to_action and got.price == ""
    assert captions.localized_title("Bag", {"pt": "Bolsa"}, "pt-BR") == "Bolsa"
    assert captions.caption_content(de, title="x", cta="").cta == ""


@pytest.mark.parametrize(("price", "currency"), [("abc", None), ("-1", None), ("5", "XYZ1")])
def test_bad_prices_are_bad_input(price, currency):
    with pytest.raises(BadInputError):
        captions.caption_content(MARKETS_BY_SLUG["us"], title="x", price=price, currency=currency)
