"""Stage 6c: the visible disclosure label ("AI-generated"), for markets whose rules ask for one.

The invisible disclosure is the C2PA manifest (generation.pipeline.credentials) on every file; this label is the
visible one, drawn when the market preset's `ai_label` is on. It sits in a corner of the platform's safe area that
the product's own pixels never reach (top line-start preferred; `corner_plans`, `check_clear`); only when every
corner is taken does the layout keep a band free for it (`reserve`). Either way the product stays exact.
The wording follows the engine, like the manifest's digital source type: the DiT engine's scenes come from a
trained model ("AI-generated"); the compositor draws them procedurally ("digitally created"), and a label claiming
AI there would be as wrong as one claiming a photograph.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw

from generation.presets import MarketPresetData

from .captions import draw_line, text_width
from .errors import PipelineError
from .fidelity import MARGIN as FIDELITY_MARGIN
from .layout import frame_extent
from .platforms import PLATFORMS

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1, end exclusive

# Per caption language; the market's language decides, English is the fallback.
LABEL_TEXT: dict[str, dict[str, str]] = {
    "dit": {
        "en": "AI-generated",
        "de": "KI-generiert",
        "fr": "Généré par IA",
        "es": "Generado con IA",
        "it": "Generato con IA",
        "nl": "Gemaakt met AI",
        "pl": "Wygenerowane przez AI",
        "pt": "Gerado por IA",
        "ja": "AI生成",
        "ko": "AI 생성",
        "zh": "AI生成",
        "ar": "مُنشأ بالذكاء الاصطناعي",
        "th": "สร้างโดย AI",
        "id": "Dibuat dengan AI",
        "vi": "Tạo bằng AI",
    },
    "compositor": {
        "en": "Digitally created",
        "de": "Digital erstellt",
        "fr": "Créé numériquement",
        "es": "Creado digitalmente",
        "it": "Creato digitalmente",
        "nl": "Digitaal gemaakt",
        "pl": "Utworzone cyfrowo",
        "pt": "Criado digitalmente",
        "ja": "デジタル合成",
        "ko": "디지털 합성",
        "zh": "数字合成",
        "ar": "مُنشأ رقميًا",
        "th": "สร้างแบบดิจิทัล",
        "id": "Dibuat secara digital",
        "vi": "Tạo bằng kỹ thuật số",
    },
}
SIZE = 0.026  # font size, of the shorter side (the floor in landscape)
# The text's own height (its inked rows: a capital's top to a descender's foot) is at least this share of the frame's
# height, so the disclosure reads on a phone in portrait as in landscape.
MIN_TEXT_SHARE = 0.02
PAD = 0.010  # plate padding, of the shorter side
GAP = 0.012  # between the label's band and the product's area
PLATE_RGBA = (16, 16, 20, 150)
TEXT_RGB = (255, 255, 255)


class LabelError(PipelineError):
    code = "ai_label_failed"


@dataclass
class LabelPlan:
    text: str
    language: str
    rect: Rect
    block: np.ndarray  # RGBA
    font_px: int = 0  # the font's size in pixels
    text_px: int = 0  # the drawn text's inked height in pixels

    def summary(self) -> dict:
        return {
            "text": self.text,
            "language": self.language,
            "rect": list(self.rect),
            "font_px": self.font_px,
            "text_px": self.text_px,
        }


def label_text(engine: str, language: str) -> str:
    texts = LABEL_TEXT.get(engine, LABEL_TEXT["dit"])
    return texts.get(language, texts["en"])


def plan_label(*, market: MarketPresetData, engine: str, width: int, height: int, platform: str) -> LabelPlan:
    short = min(width, height)
    pad = max(3, round(PAD * short))
    text, language = label_text(engine, market.caption_language), market.caption_language
    sx0, sy0, sx1, _ = PLATFORMS[platform].ui_zones.safe_rect(width, height)
    least = int(np.ceil(MIN_TEXT_SHARE * height))
    # A capital is about 0.7 of the font size; the loop settles fonts whose glyphs run smaller.
    size = max(9, round(SIZE * short), int(np.ceil(least / 0.7)))
    while True:
        image, inked = _render(text, language, market.direction, size, pad, sx1 - sx0)
        if inked >= least or size >= height // 8:
            break
        size += 1
    if inked < least:
        raise LabelError(f"the AI label's text cannot reach {least} px in a {height} px frame", "ai_label_too_small")
    w, h = image.size
    x0 = sx1 - w if market.direction == "rtl" else sx0
    return LabelPlan(text, language, (x0, sy0, x0 + w, sy0 + h), np.asarray(image), font_px=size, text_px=inked)


def _render(text: str, language: str, direction: str, size: int, pad: int, room: int) -> tuple[Image.Image, int]:
    """The plate with the text at `size`, and the text's inked height (rows holding any of its pixels)."""
    w = min(room, int(np.ceil(text_width(text, language=language, size=size, weight="regular"))) + 2 * pad)
    h = round(size * 1.3) + 2 * pad
    ink = Image.new("L", (w, h), 0)
    draw_line(
        ImageDraw.Draw(ink),
        text,
        x=pad,
        y=pad + size * 0.15,
        width=w - 2 * pad,
        language=language,
        direction=direction,
        size=size,
        fill=(255,),
        weight="regular",
    )
    rows = np.flatnonzero((np.asarray(ink) > 127).any(axis=1))
    inked = int(rows[-1] - rows[0] + 1) if rows.size else 0
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((0, 0, w - 1, h - 1), radius=pad, fill=PLATE_RGBA)
    image.paste(Image.new("RGBA", (w, h), (*TEXT_RGB, 255)), (0, 0), ink)
    return image, inked


def corner_plans(plan: LabelPlan, *, width: int, height: int, platform: str, direction: str, avoid: Rect | None = None):
    """The label in each corner of the platform's safe area, preferred first: top line-start (where `plan_label` put
    it), top line-end, bottom line-start, bottom line-end; corners that meet `avoid` (a caption block) are left out.
    The pipeline takes the first corner the product never reaches, so the label rarely costs the product any size."""
    sx0, sy0, sx1, sy1 = PLATFORMS[platform].ui_zones.safe_rect(width, height)
    w, h = plan.rect[2] - plan.rect[0], plan.rect[3] - plan.rect[1]
    starts = [sx1 - w, sx0] if direction == "rtl" else [sx0, sx1 - w]
    rects = [(x, sy0, x + w, sy0 + h) for x in starts] + [(x, sy1 - h, x + w, sy1) for x in starts]
    return [replace(plan, rect=r) for r in rects if avoid is None or not _overlaps(r, avoid)]


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def reserve(plan: LabelPlan, area: Rect, short_side: int) -> Rect:
    """The product area less the label's band at the top."""
    x0, y0, x1, y1 = area
    top = max(y0, plan.rect[3] + max(2, round(GAP * short_side)))
    if y1 - top < short_side // 3:
        raise LabelError("the AI label leaves too little room for the product", "ai_label_too_large")
    return (x0, top, x1, y1)


def is_clear(
    plan: LabelPlan, placements: np.ndarray, product_bbox: tuple[int, int, int, int], mask: np.ndarray | None = None
) -> bool:
    try:
        check_clear(plan, placements, product_bbox, mask)
    except LabelError:
        return False
    return True


def check_clear(
    plan: LabelPlan, placements: np.ndarray, product_bbox: tuple[int, int, int, int], mask: np.ndarray | None = None
) -> None:
    """Raise unless the label is clear of the product (grown by the fidelity lock's margin) in every frame.

    The product's box is checked first; where the box meets the label and the photo's `mask` is given, the product's
    own pixels decide: a bag's handles or a bottle's shoulders leave the box's corners empty, and a label there
    touches no pixel of the product (the lock pastes and QA measures only the mask's pixels)."""
    lx0, ly0, lx1, ly1 = plan.rect
    grow = FIDELITY_MARGIN + 1
    region = (lx0 - grow, ly0 - grow, lx1 + grow, ly1 + grow)
    size = (region[2] - region[0], region[3] - region[1])
    product = None if mask is None else (mask > 0).astype(np.uint8) * 255
    for i, (bx0, by0, bx1, by1) in enumerate(frame_extent(placements, product_bbox)):
        across = lx0 < bx1 + FIDELITY_MARGIN + 1 and bx0 - FIDELITY_MARGIN < lx1
        if not (across and ly0 < by1 + FIDELITY_MARGIN + 1 and by0 - FIDELITY_MARGIN < ly1):
            continue
        if product is not None:
            # The mask warped into the label's rectangle grown by the margin: any product pixel there is a touch.
            affine = placements[i].astype(np.float64).copy()
            affine[:, 2] -= region[:2]
            warped = cv2.warpAffine(product, affine, size, flags=cv2.INTER_LINEAR, borderValue=0)
            if not warped.any():
                continue
        raise LabelError(f"the AI label would cover the product in frame {i}", "ai_label_overlaps_product")


def draw_label(frames: np.ndarray, plan: LabelPlan) -> None:
    """Alpha-blend the label into every frame (N, H, W, 3) uint8, in place; only `plan.rect` changes."""
    x0, y0, x1, y1 = plan.rect
    rgb = plan.block[..., :3].astype(np.float32)
    alpha = plan.block[..., 3:].astype(np.float32) / 255.0
    for frame in frames:
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.clip(region * (1.0 - alpha) + rgb * alpha + 0.5, 0, 255).astype(np.uint8)
