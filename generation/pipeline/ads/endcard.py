"""The ad's end card: the product cutout (the photo's exact pixels, through the fidelity lock like every product
frame), the title, the price formatted for the market and a call to action, inside the platform's safe area.

Text is the captions module's: its fonts (Noto per script, a per-character fallback chain, no boxes), its Babel
price formatting (`captions.caption_content`) and its line drawing (raqm shaping: Arabic joined and laid out right
to left, Thai and Japanese in their own fonts). Every line starts at the market's line-start side: the right edge
of the safe area for a right-to-left market, the left edge otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from generation.engines.compositor_scenes import hex_to_rgb

from .. import captions, layout
from ..captions import CaptionContent, Rect
from ..plan import FIDELITY_GROWTH, FidelityForecast
from ..platforms import PLATFORMS

# Sizes as fractions of the frame's shorter side (480 px → title 31 px, price 43 px, call to action 24 px).
TITLE_SIZE, PRICE_SIZE, CTA_SIZE = 0.064, 0.09, 0.05
LINE_SPACING = 1.3
GAP = 0.03  # between the product and the text, of the shorter side
PRODUCT_FILL = 0.9  # of the product's area, at rest
SETTLE = 0.95  # the product settles from this share of its size
TEXT_RGB = (24, 24, 30)
PRICE_RGB = (24, 24, 30)
CTA_RGB = (255, 255, 255)
CTA_PLATE_RGB = (24, 24, 30)
FADE_FRAMES = 6


@dataclass
class EndCardPlan:
    content: CaptionContent
    width: int
    height: int
    safe_rect: Rect
    product_area: Rect  # where the product goes, clear of the text and the AI label
    text_rect: Rect
    block: np.ndarray  # RGBA, text_rect's size

    def summary(self) -> dict:
        return {
            "product_area": list(self.product_area),
            "text_rect": list(self.text_rect),
            "safe_rect": list(self.safe_rect),
        }


def _sizes(short_side: int) -> dict[str, int]:
    return {
        k: max(10, round(v * short_side)) for k, v in (("title", TITLE_SIZE), ("price", PRICE_SIZE), ("cta", CTA_SIZE))
    }


def text_lines(content: CaptionContent, *, width: int, short_side: int) -> list[tuple[str, str, int]]:
    """The card's lines as (text, role, height in px): the title wrapped to two lines, the price, the call to
    action (on a plate, padded)."""
    lang, sizes = content.language, _sizes(short_side)
    pad = max(4, round(0.35 * sizes["cta"]))
    lines = [(t, "title") for t in captions.wrap(content.title, max_width=width, language=lang, size=sizes["title"],
                                                  max_lines=2)]  # fmt: skip
    if content.price:
        price = captions.wrap(content.price, max_width=width, language=lang, size=sizes["price"], max_lines=1)
        lines += [(t, "price") for t in price]
    if content.cta:
        cta = captions.wrap(content.cta, max_width=width - 2 * pad, language=lang, size=sizes["cta"], max_lines=1)
        lines += [(t, "cta") for t in cta]
    return [(t, role, round(sizes[role] * LINE_SPACING) + (2 * pad if role == "cta" else 0)) for t, role in lines]


def render_text(content: CaptionContent, *, width: int, short_side: int) -> np.ndarray:
    """Title, price and call to action as an RGBA block `width` wide, each line at the start side of the market's
    direction; the call to action on a plate."""
    lang, rtl, sizes = content.language, content.direction == "rtl", _sizes(short_side)
    pad = max(4, round(0.35 * sizes["cta"]))
    lines = text_lines(content, width=width, short_side=short_side)
    image = Image.new("RGBA", (width, max(1, sum(h for _, _, h in lines))), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    y = 0
    colours = {"title": TEXT_RGB, "price": PRICE_RGB, "cta": CTA_RGB}
    for text, role, h in lines:
        size = sizes[role]
        x, room = 0, width
        if role == "cta":
            w = int(np.ceil(captions.text_width(text, language=lang, size=size))) + 2 * pad
            x0 = width - w if rtl else 0
            draw.rounded_rectangle((x0, y + pad // 2, x0 + w - 1, y + h - pad // 2), radius=pad, fill=CTA_PLATE_RGB)
            x, room = x0 + pad, w - 2 * pad
        top = y + (h - size * LINE_SPACING) / 2 + size * (LINE_SPACING - 1.0) / 2
        captions.draw_line(draw, text, x=x, y=top, width=room, language=lang, direction=content.direction, size=size,
                           fill=colours[role])  # fmt: skip
        y += h
    return np.asarray(image)


def plan_endcard(
    content: CaptionContent,
    *,
    width: int,
    height: int,
    platform: str,
    label_rect: list[int] | Rect | None = None,
) -> EndCardPlan:
    """The card's geometry: the text at the bottom of the platform's safe area, the product above it (below the
    AI label's corner when there is one)."""
    safe = PLATFORMS[platform].ui_zones.safe_rect(width, height)
    sx0, sy0, sx1, sy1 = safe
    short = min(width, height)
    gap = max(2, round(GAP * short))
    landscape = width > 1.2 * height
    text_w = round((sx1 - sx0) * 0.45) if landscape else sx1 - sx0
    block = render_text(content, width=text_w, short_side=short)
    bh = block.shape[0]
    top = sy0 if label_rect is None else max(sy0, int(label_rect[3]) + gap)
    if landscape:
        y0 = sy0 + (sy1 - sy0 - bh) // 2
        rtl = content.direction == "rtl"
        text_rect = (sx0, y0, sx0 + text_w, y0 + bh) if rtl else (sx1 - text_w, y0, sx1, y0 + bh)
        area = (text_rect[2] + gap, top, sx1, sy1) if rtl else (sx0, top, text_rect[0] - gap, sy1)
    else:
        text_rect = (sx0, sy1 - bh, sx1, sy1)
        area = (sx0, top, sx1, text_rect[1] - gap)
    if area[2] - area[0] < short // 4 or area[3] - area[1] < short // 4:
        raise captions.CaptionError("the end card's text leaves too little room for the product", "endcard_too_full")
    return EndCardPlan(content, width, height, safe, area, text_rect, block)


def card_placements(
    plan: EndCardPlan, mask: np.ndarray, frames: int, forecast: FidelityForecast | None = None
) -> np.ndarray:
    """The product settling into the middle of its area, at rest at most one photo pixel per frame pixel. With a
    `forecast`, sized as product shots are: where 4:2:0 cannot carry the photo's pixels at that size in every frame
    (a small photo with fine, coloured print), the product holds still at that size, then grows by FIDELITY_GROWTH,
    until the forecast clears the QA bar, up to the largest size its area holds (the best forecast when none
    clears). Holding still matters: while it settles the scale sweeps through sizes whose print falls on the 2×2
    chroma grid well and badly, ±1.5 dB apart."""
    bbox = layout.mask_bbox(mask)
    ax0, ay0, ax1, ay1 = plan.product_area
    fit = min((ax1 - ax0) / (bbox[2] - bbox[0]), (ay1 - ay0) / (bbox[3] - bbox[1]))
    rest = min(1.0, PRODUCT_FILL * fit)
    placements = _settle(plan, bbox, frames, rest, SETTLE)
    if forecast is None:
        return placements
    best = (-1.0, placements)
    while True:
        for settle in (SETTLE, 1.0):
            placements = _settle(plan, bbox, frames, rest, settle)
            predicted = _worst(forecast, placements)
            if predicted >= forecast.target:
                return placements
            best = max(best, (predicted, placements), key=lambda b: b[0])
        if rest >= fit:
            return best[1]
        rest = min(fit, rest * FIDELITY_GROWTH)


def _worst(forecast: FidelityForecast, placements: np.ndarray) -> float:
    """The forecast's PSNR at every distinct frame of the card (a few ms each; sampling would miss the dips)."""
    return min(forecast.frame(p) for p in np.unique(placements, axis=0))


def _settle(plan: EndCardPlan, bbox: Rect, frames: int, rest: float, settle: float) -> np.ndarray:
    """From `settle` × `rest` to `rest`, eased, about the product area's centre."""
    x0, y0, x1, y1 = bbox
    ax0, ay0, ax1, ay1 = plan.product_area
    t = np.linspace(0.0, 1.0, frames) if frames > 1 else np.ones(1)
    e = t * t * t * (t * (6.0 * t - 15.0) + 10.0)
    scale = rest * (settle + (1.0 - settle) * e)
    pc = ((x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0)
    centre = ((ax0 + ax1 - 1) / 2.0, (ay0 + ay1 - 1) / 2.0)
    out = np.zeros((frames, 2, 3), np.float64)
    out[:, 0, 0] = out[:, 1, 1] = scale
    out[:, 0, 2] = centre[0] - scale * pc[0]
    out[:, 1, 2] = centre[1] - scale * pc[1]
    return out


def paint_background(width: int, height: int, palette: tuple[str, ...]) -> np.ndarray:
    """A light vertical gradient in the scene's colours: calm behind the product and the text."""
    colours = [np.asarray(hex_to_rgb(c), np.float32) for c in (palette or ("#f4f1ec",))]
    top = 0.25 * colours[0] + 0.75 * 250.0
    bottom = 0.35 * colours[-1] + 0.65 * 236.0
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    column = top * (1.0 - t) + bottom * t
    return np.ascontiguousarray(np.broadcast_to(np.rint(column), (height, width, 3)).astype(np.uint8))


def draw_text(frames: np.ndarray, plan: EndCardPlan, *, fade_frames: int = FADE_FRAMES) -> None:
    """Blend the text block into the card's frames (N, H, W, 3) in place, fading in; only `text_rect` changes."""
    captions.blend_block(frames, plan.block, plan.text_rect, fade_frames=fade_frames)


def ink_columns(block: np.ndarray, heights: list[int]) -> list[tuple[int, int]]:
    """Per line (`heights` from `text_lines`), the first and last column of the block holding ink: how each line
    is aligned. (-1, -1) for a line without ink."""
    ink = block[..., 3] > 127
    out: list[tuple[int, int]] = []
    y = 0
    for h in heights:
        cols = np.flatnonzero(ink[y : y + h].any(axis=0))
        out.append((int(cols[0]), int(cols[-1])) if cols.size else (-1, -1))
        y += h
    return out
