"""Stage 6c: the visible disclosure label ("AI-generated"), for markets whose rules ask for one.

The invisible disclosure is the C2PA manifest (generation.pipeline.credentials) on every file; this label is the
visible one, drawn when the market preset's `ai_label` is on. It sits in the top corner of the platform's safe area
on the line-start side, and the layout keeps the product out of its band (`reserve`), so the product stays exact.
The wording follows the engine, like the manifest's digital source type: the DiT engine's scenes come from a
trained model ("AI-generated"); the compositor draws them procedurally ("digitally created"), and a label claiming
AI there would be as wrong as one claiming a photograph.
"""

from __future__ import annotations

from dataclasses import dataclass

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
SIZE = 0.026  # text height, of the shorter side
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

    def summary(self) -> dict:
        return {"text": self.text, "language": self.language, "rect": list(self.rect)}


def label_text(engine: str, language: str) -> str:
    texts = LABEL_TEXT.get(engine, LABEL_TEXT["dit"])
    return texts.get(language, texts["en"])


def plan_label(*, market: MarketPresetData, engine: str, width: int, height: int, platform: str) -> LabelPlan:
    short = min(width, height)
    size, pad = max(9, round(SIZE * short)), max(3, round(PAD * short))
    text, language = label_text(engine, market.caption_language), market.caption_language
    sx0, sy0, sx1, _ = PLATFORMS[platform].ui_zones.safe_rect(width, height)
    w = min(sx1 - sx0, int(np.ceil(text_width(text, language=language, size=size, weight="regular"))) + 2 * pad)
    h = round(size * 1.3) + 2 * pad
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=pad, fill=PLATE_RGBA)
    draw_line(
        draw,
        text,
        x=pad,
        y=pad + size * 0.15,
        width=w - 2 * pad,
        language=language,
        direction=market.direction,
        size=size,
        fill=TEXT_RGB,
        weight="regular",
    )
    x0 = sx1 - w if market.direction == "rtl" else sx0
    return LabelPlan(text, language, (x0, sy0, x0 + w, sy0 + h), np.asarray(image))


def reserve(plan: LabelPlan, area: Rect, short_side: int) -> Rect:
    """The product area less the label's band at the top."""
    x0, y0, x1, y1 = area
    top = max(y0, plan.rect[3] + max(2, round(GAP * short_side)))
    if y1 - top < short_side // 3:
        raise LabelError("the AI label leaves too little room for the product", "ai_label_too_large")
    return (x0, top, x1, y1)


def check_clear(plan: LabelPlan, placements: np.ndarray, product_bbox: tuple[int, int, int, int]) -> None:
    """Raise unless the label is clear of the product's box (grown by the fidelity lock's margin) in every frame."""
    lx0, ly0, lx1, ly1 = plan.rect
    for i, (bx0, by0, bx1, by1) in enumerate(frame_extent(placements, product_bbox)):
        across = lx0 < bx1 + FIDELITY_MARGIN + 1 and bx0 - FIDELITY_MARGIN < lx1
        if across and ly0 < by1 + FIDELITY_MARGIN + 1 and by0 - FIDELITY_MARGIN < ly1:
            raise LabelError(f"the AI label would cover the product in frame {i}", "ai_label_overlaps_product")


def draw_label(frames: np.ndarray, plan: LabelPlan) -> None:
    """Alpha-blend the label into every frame (N, H, W, 3) uint8, in place; only `plan.rect` changes."""
    x0, y0, x1, y1 = plan.rect
    rgb = plan.block[..., :3].astype(np.float32)
    alpha = plan.block[..., 3:].astype(np.float32) / 255.0
    for frame in frames:
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.clip(region * (1.0 - alpha) + rgb * alpha + 0.5, 0, 255).astype(np.uint8)
