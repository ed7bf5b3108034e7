"""Stage 6b: captions and price tags, drawn on the frames after the fidelity lock and never over the product.

What a caption says: the product title for the market (the merchant's localized title, else the original title:
we never machine-translate), the price formatted by Babel for the market's locale and currency, and a call to
action. Where it goes: inside the platform's safe area (generation.pipeline.platforms: out of TikTok's, Reels' and
Shorts' interface zones), in a band the layout leaves free of the product: `plan_captions` measures the caption
first and gives the layout the rest of the frame (`product_area`), so the product's per-frame box and the caption
never meet (`check_clear` proves it for every frame before anything is drawn).

Text: Noto fonts found by path (Debian's fonts-noto-core and fonts-noto-cjk, installed by `make install`), a
per-character fallback chain so a Thai or Arabic title with Latin digits or a brand name draws without boxes,
DejaVu and then Pillow's built-in font as the last resort. Pillow's raqm layout shapes every run (Arabic joining,
Thai marks, CJK); right-to-left lines run from the right edge, runs of another font placed right to left in
logical order (the bidi algorithm's result for alternating Arabic and Latin words; inside a run raqm's own bidi
orders numbers and punctuation). Line breaking: at spaces, zero-width spaces and hyphens; between any two CJK
characters except before closing punctuation and small kana (kinsoku); Thai has no spaces between words, so Thai
runs are cut into dictionary words first (PyThaiNLP's `newmm` tokenizer with its bundled Thai word list: maximal
matching over Thai character clusters, no network, no model) and break between words; only a word wider than the
line breaks between grapheme clusters (never between a consonant and its vowel or tone marks).
"""

from __future__ import annotations

import functools
import os
import unicodedata
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import regex
from babel.numbers import is_currency
from PIL import Image, ImageDraw, ImageFont, features

from generation.presets import MarketPresetData, format_price

from .errors import BadInputError, PipelineError
from .fidelity import MARGIN as FIDELITY_MARGIN
from .layout import frame_extent
from .platforms import PLATFORMS

FONT_DIRS = tuple(
    Path(p)
    for p in (
        *filter(None, os.environ.get("SHOPVIDEO_FONT_DIRS", "").split(os.pathsep)),
        "/usr/share/fonts/truetype/noto",
        "/usr/share/fonts/opentype/noto",
        "/usr/share/fonts/truetype/dejavu",
        "/usr/local/share/fonts",
    )
)
# (file, face index in a collection) per script and weight. Noto Sans CJK collections: 0 JP, 1 KR, 2 SC, 3 TC.
FONT_FILES: dict[str, dict[str, tuple[str, int]]] = {
    "latin": {"bold": ("NotoSans-Bold.ttf", 0), "regular": ("NotoSans-Regular.ttf", 0)},
    "arabic": {"bold": ("NotoSansArabic-Bold.ttf", 0), "regular": ("NotoSansArabic-Regular.ttf", 0)},
    "thai": {"bold": ("NotoSansThai-Bold.ttf", 0), "regular": ("NotoSansThai-Regular.ttf", 0)},
    "ja": {"bold": ("NotoSansCJK-Bold.ttc", 0), "regular": ("NotoSansCJK-Regular.ttc", 0)},
    "ko": {"bold": ("NotoSansCJK-Bold.ttc", 1), "regular": ("NotoSansCJK-Regular.ttc", 1)},
    "zh": {"bold": ("NotoSansCJK-Bold.ttc", 2), "regular": ("NotoSansCJK-Regular.ttc", 2)},
    "dejavu": {"bold": ("DejaVuSans-Bold.ttf", 0), "regular": ("DejaVuSans.ttf", 0)},
}
_SCRIPT_OF_LANGUAGE = {"ar": "arabic", "fa": "arabic", "ur": "arabic", "th": "thai", "ja": "ja", "ko": "ko", "zh": "zh"}
_FALLBACK_ORDER = ("latin", "ja", "arabic", "thai", "ko", "dejavu")

# Sizes as fractions of the frame's shorter side (480 px → title 23 px, price 30 px, call to action 18 px).
TITLE_SIZE, PRICE_SIZE, CTA_SIZE = 0.048, 0.062, 0.037
LINE_SPACING = 1.28
TITLE_MAX_LINES = 2
PAD = 0.028  # plate padding, of the shorter side
GAP = 0.02  # between the caption and the product's area, of the shorter side
COLUMN_WIDTH = 0.40  # caption column on landscape frames, of the safe area's width
FADE_FRAMES = 6  # the caption fades in over the first frames rather than popping on
PLATE_RGBA = (16, 16, 20, 168)  # a dark translucent plate: legible on any scene
TEXT_RGB = (255, 255, 255)
PRICE_RGB = (255, 214, 102)


class CaptionError(PipelineError):
    code = "caption_error"


@dataclass(frozen=True)
class CaptionContent:
    title: str
    price: str  # formatted; "" for none
    cta: str  # "" for none
    language: str
    direction: str  # "ltr" | "rtl"
    # False when the merchant has no title in the caption's language and the product's original title stands in
    # (captions never machine-translate); the video page says so and links to where to add one.
    title_localized: bool = True


def localized_title(original: str, localized: dict[str, str] | None, language: str) -> str:
    """The merchant's title for the language (`ja`, or `pt` for `pt-BR`), else the original title."""
    return (_merchant_title(localized, language) or original).strip()


def _merchant_title(localized: dict[str, str] | None, language: str) -> str:
    localized = {k.lower().replace("_", "-"): v for k, v in (localized or {}).items() if v and v.strip()}
    lang = language.lower().replace("_", "-")
    return localized.get(lang) or localized.get(lang.split("-")[0]) or ""


def caption_content(
    market: MarketPresetData,
    *,
    title: str,
    localized_titles: dict[str, str] | None = None,
    price: Decimal | str | float | None = None,
    currency: str | None = None,
    cta: str | None = None,
) -> CaptionContent:
    """What the caption says for `market`. `cta=None` takes the market's call to action, "" leaves it out."""
    price_text = ""
    if price not in (None, ""):
        try:
            amount = Decimal(str(price))
        except InvalidOperation as exc:
            raise BadInputError(f"price {price!r} is not a number", "bad_price") from exc
        if not amount.is_finite() or amount < 0:
            raise BadInputError(f"price {price!r} must be a non-negative number", "bad_price")
        if currency is not None and not is_currency(currency.upper()):
            raise BadInputError(f"unknown currency {currency!r}", "bad_currency")
        price_text = format_price(amount, market, currency.upper() if currency else None)
    return CaptionContent(
        title=localized_title(title, localized_titles, market.caption_language),
        price=price_text,
        cta=market.call_to_action if cta is None else cta.strip(),
        language=market.caption_language,
        direction=market.direction,
        title_localized=bool(_merchant_title(localized_titles, market.caption_language)),
    )


# ---------------------------------------------------------------------------------------------------------------
# Fonts


def font_path(script: str, weight: str = "bold") -> tuple[Path, int] | None:
    name, index = FONT_FILES[script][weight]
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return path, index
    return None


def fonts_available() -> dict[str, bool]:
    return {script: font_path(script) is not None for script in FONT_FILES}


@functools.lru_cache(maxsize=256)
def _font(script: str, weight: str, size: int) -> ImageFont.FreeTypeFont | None:
    found = font_path(script, weight)
    if found is None:
        return None
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(found[0]), size, index=found[1], layout_engine=layout)


@functools.lru_cache(maxsize=8)
def _default_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)


@functools.lru_cache(maxsize=8192)
def _covers(script: str, ch: str) -> bool:
    """Whether the script's font has a glyph for `ch`: its rendering differs from the font's missing-glyph box."""
    font = _font(script, "bold", 32)
    if font is None:
        return False
    got = np.asarray(font.getmask(ch, mode="L"))
    missing = np.asarray(font.getmask("\U0010fffd", mode="L"))
    return not (got.shape == missing.shape and np.array_equal(got, missing))


def _neutral(ch: str) -> bool:
    """Spaces, joiners, bidi marks and combining marks: they belong to the run around them."""
    return unicodedata.category(ch) in ("Zs", "Cf", "Mn", "Me", "Cc") or ch in "\u200b\u00a0"


def font_chain(language: str) -> tuple[str, ...]:
    first = _SCRIPT_OF_LANGUAGE.get(language.split("-")[0].lower(), "latin")
    return (first, *(s for s in _FALLBACK_ORDER if s != first))


@dataclass(frozen=True)
class Run:
    text: str
    script: str  # key of FONT_FILES, or "default" for Pillow's built-in font


def font_runs(text: str, language: str) -> list[Run]:
    """Split text into runs each drawn with one font: the first font of the language's chain that has the glyph."""
    chain = [s for s in font_chain(language) if _font(s, "bold", 32) is not None]
    runs: list[list[str]] = []
    for cluster in regex.findall(r"\X", text):
        base = next((c for c in cluster if not _neutral(c)), None)
        if base is None:
            script = runs[-1][1] if runs else None
        else:
            script = next((s for s in chain if _covers(s, base)), "default")
        if runs and (script is None or runs[-1][1] == script):
            runs[-1][0] += cluster
        elif runs and runs[-1][1] is None:
            runs[-1] = [runs[-1][0] + cluster, script]
        else:
            runs.append([cluster, script])
    return [Run(t, s or (chain[0] if chain else "default")) for t, s in runs]


def _get_font(script: str, weight: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return (_font(script, weight, size) if script != "default" else None) or _default_font(size)


_RTL_CHAR = regex.compile(r"[\p{Bidi_Class=R}\p{Bidi_Class=AL}]")


def _run_direction(text: str) -> str:
    return "rtl" if _RTL_CHAR.search(text) else "ltr"


def _draw_kwargs(font, run: Run, language: str) -> dict:
    if not isinstance(font, ImageFont.FreeTypeFont) or font.layout_engine != ImageFont.Layout.RAQM:
        return {}
    return {"direction": _run_direction(run.text), "language": language, "features": ["kern", "liga"]}


def _split_spaces(runs: list[Run]) -> list[Run]:
    """Spaces at a run's ends as runs of their own: placed in the paragraph's direction, they stay between the
    words (an LTR brand name in an Arabic line would otherwise carry its trailing space to the wrong side)."""
    out: list[Run] = []
    for run in runs:
        core = run.text.strip(" \u00a0")
        if not core:
            out.append(run)
            continue
        start = run.text.index(core)
        lead, tail = run.text[:start], run.text[start + len(core) :]
        out += [Run(t, run.script) for t in (lead, core, tail) if t]
    return out


def text_width(text: str, *, language: str, size: int, weight: str = "bold") -> float:
    total = 0.0
    for run in font_runs(text, language):
        font = _get_font(run.script, weight, size)
        total += font.getlength(run.text, **_draw_kwargs(font, run, language))
    return total


def draw_line(
    draw: ImageDraw.ImageDraw,
    text: str,
    *,
    x: float,
    y: float,
    width: float,
    language: str,
    direction: str,
    size: int,
    fill: tuple[int, ...],
    weight: str = "bold",
) -> tuple[int, int, int, int]:
    """Draw one line in the box starting at (x, y), `width` wide, aligned to the line's start (left for LTR,
    right for RTL). Returns the drawn runs' bounding box."""
    runs = _split_spaces(font_runs(text, language))
    widths = []
    for run in runs:
        font = _get_font(run.script, weight, size)
        widths.append(font.getlength(run.text, **_draw_kwargs(font, run, language)))
    cursor = x + width if direction == "rtl" else x
    box = [float("inf"), float("inf"), float("-inf"), float("-inf")]
    for run, w in zip(runs, widths, strict=True):
        font = _get_font(run.script, weight, size)
        left = cursor - w if direction == "rtl" else cursor
        # Every font shares one baseline: anchor "ls" puts the run's baseline at y + the line's ascent.
        baseline = y + size * 1.02
        draw.text((left, baseline), run.text, font=font, fill=fill, anchor="ls", **_draw_kwargs(font, run, language))
        bb = draw.textbbox((left, baseline), run.text, font=font, anchor="ls", **_draw_kwargs(font, run, language))
        box = [min(box[0], bb[0]), min(box[1], bb[1]), max(box[2], bb[2]), max(box[3], bb[3])]
        cursor = cursor - w if direction == "rtl" else cursor + w
    return tuple(int(v) for v in box) if runs else (int(x), int(y), int(x), int(y))


# ---------------------------------------------------------------------------------------------------------------
# Line breaking

_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff00-\uffef\u30fc]")
# Kinsoku: no line starts with these (closing marks, small kana, prolonged sound mark) …
_NO_LINE_START = set(
    "、。，．・：；？！ー」』）］｝〕〉》】〙〗ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ％!),.:;?]}"
)
# … and none ends with these (opening marks).
_NO_LINE_END = set("「『（［｛〔〈《【〘〖([{")


_THAI_RUN = regex.compile(r"\p{Thai}+")


@functools.lru_cache(maxsize=1)
def _thai_tokenizer():
    # Read-only and offline: the bundled dictionary is all it needs; never a data folder in $HOME or a download.
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


@functools.lru_cache(maxsize=512)
def thai_words(run: str) -> tuple[str, ...]:
    """A run of Thai text cut into dictionary words (joined, they give the run back)."""
    words = tuple(w for w in _thai_tokenizer()(run, engine="newmm", keep_whitespace=True) if w)
    return words if "".join(words) == run else (run,)


def mark_thai_word_breaks(text: str) -> str:
    """U+200B between the dictionary words of every Thai run, where `segments` then allows a line break."""
    return _THAI_RUN.sub(lambda m: "\u200b".join(thai_words(m.group())), text)


def segments(text: str) -> list[str]:
    """The text cut at every place a line may break; joined, the segments give the text back (less the U+200B
    marks between Thai words)."""
    if _THAI_RUN.search(text):
        text = mark_thai_word_breaks(text)
    clusters = regex.findall(r"\X", text)
    out: list[str] = []
    current = ""
    for i, cluster in enumerate(clusters):
        current += cluster
        nxt = clusters[i + 1] if i + 1 < len(clusters) else None
        if nxt is None:
            break
        breaks = (
            cluster.isspace()
            or cluster == "\u200b"
            or cluster in "-/"
            or (
                (_CJK.match(cluster) or _CJK.match(nxt))
                and not nxt.isspace()
                and nxt[0] not in _NO_LINE_START
                and cluster[-1] not in _NO_LINE_END
            )
        )
        if breaks and not nxt.isspace():
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def _clean(line: str) -> str:
    return line.replace("\u200b", "").strip()


def wrap(text: str, *, max_width: float, language: str, size: int, max_lines: int, weight: str = "bold") -> list[str]:
    """Greedy line breaking at `segments`; a segment wider than a line breaks between grapheme clusters; the last
    line is cut with an ellipsis when the text needs more than `max_lines`."""

    def fits(s: str) -> bool:
        return text_width(_clean(s), language=language, size=size, weight=weight) <= max_width

    pieces: list[str] = []
    for seg in segments(text):
        if fits(seg):
            pieces.append(seg)
            continue
        part = ""
        for cluster in regex.findall(r"\X", seg):
            if part and not fits(part + cluster):
                pieces.append(part)
                part = ""
            part += cluster
        if part:
            pieces.append(part)
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and not fits(line + piece):
            lines.append(line)
            line = ""
        line += piece
    if line:
        lines.append(line)
    lines = [_clean(x) for x in lines if _clean(x)]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        clusters = regex.findall(r"\X", last)
        while clusters and not fits("".join(clusters).rstrip() + "…"):
            clusters.pop()
        lines = [*lines[: max_lines - 1], "".join(clusters).rstrip() + "…"]
    return lines


# ---------------------------------------------------------------------------------------------------------------
# The caption block and where it goes

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1, end exclusive


def render_block(content: CaptionContent, *, max_width: int, short_side: int) -> np.ndarray:
    """The caption as an RGBA image (h, w, 4) at most `max_width` wide: a translucent plate, title, price, CTA."""
    title_px = max(10, round(TITLE_SIZE * short_side))
    price_px = max(12, round(PRICE_SIZE * short_side))
    cta_px = max(9, round(CTA_SIZE * short_side))
    pad = max(4, round(PAD * short_side))
    inner = max_width - 2 * pad
    lang, direction = content.language, content.direction
    lines: list[tuple[str, int, tuple[int, ...], str]] = []  # text, size, colour, weight
    for line in wrap(content.title, max_width=inner, language=lang, size=title_px, max_lines=TITLE_MAX_LINES):
        lines.append((line, title_px, TEXT_RGB, "bold"))
    if content.price:
        price = wrap(content.price, max_width=inner, language=lang, size=price_px, max_lines=1)
        lines += [(p, price_px, PRICE_RGB, "bold") for p in price]
    if content.cta:
        cta = wrap(content.cta, max_width=inner, language=lang, size=cta_px, max_lines=1, weight="regular")
        lines += [(c, cta_px, TEXT_RGB, "regular") for c in cta]
    if not lines:
        return np.zeros((0, 0, 4), np.uint8)
    widest = max(text_width(t, language=lang, size=s, weight=w) for t, s, _, w in lines)
    width = min(max_width, int(np.ceil(widest)) + 2 * pad)
    height = 2 * pad + sum(round(s * LINE_SPACING) for _, s, _, _ in lines)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=pad, fill=PLATE_RGBA)
    y = pad
    for text, size, colour, weight in lines:
        draw_line(
            draw,
            text,
            x=pad,
            y=y + (size * (LINE_SPACING - 1.0)) / 2,
            width=width - 2 * pad,
            language=lang,
            direction=direction,
            size=size,
            fill=colour,
            weight=weight,
        )
        y += round(size * LINE_SPACING)
    return np.asarray(image)


@dataclass
class CaptionPlan:
    content: CaptionContent
    platform: str
    rect: Rect  # where the block goes in the frame
    safe_rect: Rect  # the frame area outside the platform's interface zones
    product_area: Rect  # the part of the frame the layout may place the product in
    block: np.ndarray  # RGBA

    def summary(self) -> dict:
        return {
            "platform": self.platform,
            "rect": list(self.rect),
            "safe_rect": list(self.safe_rect),
            "product_area": list(self.product_area),
            **asdict(self.content),
        }


def plan_captions(content: CaptionContent, *, width: int, height: int, platform: str) -> CaptionPlan:
    """Measure the caption and place it: in portrait and square frames a band at the bottom of the safe area
    (above TikTok's description zone), the product above it; in landscape frames a column at the line-start side
    (right for LTR, left for RTL) beside the product."""
    preset = PLATFORMS[platform]
    safe = preset.ui_zones.safe_rect(width, height)
    sx0, sy0, sx1, sy1 = safe
    short = min(width, height)
    gap = max(2, round(GAP * short))
    landscape = width > 1.2 * height
    max_width = round((sx1 - sx0) * COLUMN_WIDTH) if landscape else sx1 - sx0
    block = render_block(content, max_width=max_width, short_side=short)
    bh, bw = block.shape[:2]
    if bh == 0:
        raise CaptionError("the caption has nothing to show", "caption_empty")
    if landscape:
        y0 = sy0 + (sy1 - sy0 - bh) // 2
        if content.direction == "rtl":
            rect = (sx0, y0, sx0 + bw, y0 + bh)
            area = (rect[2] + gap, 0, width, height)
        else:
            rect = (sx1 - bw, y0, sx1, y0 + bh)
            area = (0, 0, rect[0] - gap, height)
    else:
        x0 = sx1 - bw if content.direction == "rtl" else sx0
        rect = (x0, sy1 - bh, x0 + bw, sy1)
        area = (0, 0, width, rect[1] - gap)
    if rect[1] < sy0 or area[2] - area[0] < short // 3 or area[3] - area[1] < short // 3:
        raise CaptionError(
            f"the caption ({bw}×{bh} px) leaves too little room for the product in a {width}×{height} frame",
            "caption_too_large",
        )
    return CaptionPlan(content, platform, rect, safe, area, block)


def offset_placements(placements: np.ndarray, area: Rect) -> np.ndarray:
    """Placements planned in the product area's own frame, moved to the full frame (a translation of each affine)."""
    out = placements.copy()
    out[:, 0, 2] += area[0]
    out[:, 1, 2] += area[1]
    return out


def _intersects(a: Rect, b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_clear(plan: CaptionPlan, placements: np.ndarray, product_bbox: tuple[int, int, int, int]) -> None:
    """Raise unless, in every frame, the caption is clear of the product's box (grown by the fidelity lock's edge
    margin) and inside the platform's safe area."""
    ext = frame_extent(placements, product_bbox)
    grown = ext + np.array([-FIDELITY_MARGIN, -FIDELITY_MARGIN, FIDELITY_MARGIN + 1, FIDELITY_MARGIN + 1])
    hits = [i for i, box in enumerate(grown) if _intersects(plan.rect, tuple(box))]
    if hits:
        raise CaptionError(f"the caption would cover the product in frames {hits[:5]}", "caption_overlaps_product")
    sx0, sy0, sx1, sy1 = plan.safe_rect
    x0, y0, x1, y1 = plan.rect
    if x0 < sx0 or y0 < sy0 or x1 > sx1 or y1 > sy1:
        raise CaptionError("the caption reaches into the platform's interface zone", "caption_outside_safe_area")


def draw_captions(frames: np.ndarray, plan: CaptionPlan, *, fade_frames: int = FADE_FRAMES) -> None:
    """Alpha-blend the caption block into the frames (N, H, W, 3) uint8, in place; only `plan.rect` changes."""
    blend_block(frames, plan.block, plan.rect, fade_frames=fade_frames)


def blend_block(frames: np.ndarray, block: np.ndarray, rect: Rect, *, fade_frames: int) -> None:
    """Alpha-blend an RGBA text block into `rect` of the frames (N, H, W, 3) uint8 in place, fading in over
    `fade_frames` (0: at once); nothing outside `rect` changes."""
    x0, y0, x1, y1 = rect
    rgb = block[..., :3].astype(np.float32)
    alpha = block[..., 3:].astype(np.float32) / 255.0
    for i in range(len(frames)):
        a = alpha * min(1.0, (i + 1) / fade_frames) if fade_frames > 0 else alpha
        region = frames[i][y0:y1, x0:x1].astype(np.float32)
        frames[i][y0:y1, x0:x1] = np.clip(region * (1.0 - a) + rgb * a + 0.5, 0, 255).astype(np.uint8)
