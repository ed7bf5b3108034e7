"""The plan of one video, decided before the render: the caption band, the product's layout (sized so the product
can stay exact in 4:2:0) and the visible AI label's corner. The render, the overlays and the credentials consume it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from . import ai_label, captions, encode, fidelity, layout, qa
from .spec import VariantSpec

# Fill grows by this factor per step while the forecast is below the QA bar plus this margin (x264's share).
FIDELITY_GROWTH = 1.1
FIDELITY_MARGIN_DB = 1.0


class FidelityForecast:
    """What product PSNR a layout allows in yuv420p, before rendering: frames of the layout go through the encoder's
    conversion (`encode.shown_after_yuv420`, within 0.1–0.5 dB of the decoded MP4 per frame). Fine, strongly
    coloured print shrunk a lot cannot stay exact in 4:2:0 whatever the engine does (ADR 0004), so the layout
    shows such a product larger rather than render a video QA must hold back."""

    SAMPLES = 8  # frames beside the smallest: how print lines fall on the 2×2 chroma grid moves PSNR ±1 dB
    CLEAR_DB = 3.0  # a smallest frame this far above the target needs no other sample

    def __init__(self, photo_rgb: np.ndarray, mask: np.ndarray, frame_size: tuple[int, int], target: float):
        self.lock = fidelity.FidelityLock(photo_rgb, mask, frame_size)
        self.mask = mask
        self.frame_size = frame_size
        self.target = target

    def frame(self, placement: np.ndarray) -> float:
        layer = self.lock.layer(placement)
        x0, y0, x1, y1 = layer.box
        region = qa.product_region(self.mask, placement, self.frame_size)[y0:y1, x0:x1]
        return qa.psnr(encode.shown_after_yuv420(layer)[region], layer.colour[region])

    def __call__(self, placements: np.ndarray) -> float:
        placements = np.asarray(placements, np.float64)
        smallest = int(np.argmin(np.abs(np.linalg.det(placements[:, :, :2]))))
        worst = self.frame(placements[smallest])
        if worst >= self.target + self.CLEAR_DB:
            return worst
        for i in np.unique(np.linspace(0, len(placements) - 1, self.SAMPLES).round().astype(int)):
            if i != smallest:
                worst = min(worst, self.frame(placements[i]))
        return worst


def plan_layout(
    spec: VariantSpec,
    mask: np.ndarray,
    area: tuple[int, int, int, int],
    seed: int,
    motion: str | None = None,
    forecast: FidelityForecast | None = None,
) -> layout.Layout:
    """The product's placements inside `area` (the frame less caption or label bands), in frame coordinates; with a
    `forecast`, at the smallest fill (from the shot's own) whose product can stay above the QA bar in 4:2:0, up to
    the shot's largest. `extras` records the fill and the forecast PSNR."""
    area_size = (area[2] - area[0], area[3] - area[1])
    with_model = spec.look is not None
    fill = layout.product_fill(
        frame_size=area_size, category=spec.product_category, aspect_ratio=spec.aspect_ratio, with_model=with_model
    )
    largest = max(fill, layout.max_product_fill(with_model=with_model))
    while True:
        plan = layout.plan_layout(
            mask=mask, frame_size=area_size, frames=spec.frames, motion=motion or spec.motion, seed=seed, fill=fill
        )
        if area[:2] != (0, 0):
            plan.placements = captions.offset_placements(plan.placements, area)
        plan.extras["fill"] = round(fill, 4)
        if forecast is None:
            return plan
        predicted = forecast(plan.placements)
        plan.extras["predicted_psnr"] = round(predicted, 2)
        if predicted >= forecast.target or fill >= largest:
            return plan
        fill = min(largest, fill * FIDELITY_GROWTH)


def place_label(
    spec: VariantSpec,
    mask: np.ndarray,
    area: tuple[int, int, int, int],
    seed: int,
    plan: layout.Layout,
    corners: list[ai_label.LabelPlan],
    forecast: FidelityForecast | None = None,
) -> tuple[ai_label.LabelPlan, layout.Layout]:
    """A corner for the AI label that the product never reaches, and the layout that keeps it so.

    A band of its own for the label would shrink the product, and a smaller product loses fidelity in 4:2:0
    (ADR 0004; about 1 dB at 1:1). So: the seed's motion in any free corner; then, when the job did not fix the
    motion, the other motions; only when the product reaches every corner in every motion, the band."""
    motions = [plan.motion] + ([m for m in layout.MOTIONS if m != plan.motion] if spec.motion is None else [])
    for motion in motions:
        candidate = plan if motion == plan.motion else plan_layout(spec, mask, area, seed, motion, forecast)
        for corner in corners:
            if ai_label.is_clear(corner, candidate.placements, candidate.product_bbox, mask):
                return corner, candidate
    reserved = ai_label.reserve(corners[0], area, min(spec.width, spec.height))
    return corners[0], plan_layout(spec, mask, reserved, seed, forecast=forecast)


def plan_captions(spec: VariantSpec) -> captions.CaptionPlan:
    market = spec.market_preset
    content = captions.caption_content(
        market,
        title=spec.product_title,
        localized_titles={market.caption_language: spec.caption_title} if spec.caption_title else None,
        price=spec.price,
        currency=spec.currency,
        cta=spec.cta,
    )
    return captions.plan_captions(content, width=spec.width, height=spec.height, platform=spec.platform_slug)


@dataclass
class VideoPlan:
    """What one attempt renders: where the product goes, and the overlays drawn on the frames after the lock."""

    layout: layout.Layout
    captions: captions.CaptionPlan | None
    ai_label: ai_label.LabelPlan | None

    @property
    def predicted_psnr(self) -> float:
        return self.layout.extras.get("predicted_psnr", 99.0)

    def fidelity_summary(self) -> dict:
        return {"fill": self.layout.extras.get("fill"), "predicted_psnr": self.predicted_psnr}


class Planner:
    """Plans a video for one product and spec: the caption band and the label's corners once, the layout per seed
    (each QA attempt renders another seed)."""

    def __init__(self, spec: VariantSpec, photo_rgb: np.ndarray, mask: np.ndarray):
        self.spec, self.mask = spec, mask
        self.forecast = FidelityForecast(
            photo_rgb, mask, (spec.width, spec.height), settings.SHOPVIDEO_QA_MIN_PSNR + FIDELITY_MARGIN_DB
        )
        market = spec.market_preset
        self.captions = plan_captions(spec) if spec.captions else None
        # With a caption the layout gets the frame less the caption's band, so the product never goes under it.
        self.area = self.captions.product_area if self.captions else (0, 0, spec.width, spec.height)
        self.label: ai_label.LabelPlan | None = None
        self.label_corners: list[ai_label.LabelPlan] = []
        if market.ai_label:
            self.label = ai_label.plan_label(
                market=market, engine=spec.engine, width=spec.width, height=spec.height, platform=spec.platform_slug
            )
            self.label_corners = ai_label.corner_plans(
                self.label,
                width=spec.width,
                height=spec.height,
                platform=spec.platform_slug,
                direction=market.direction,
                avoid=self.captions.rect if self.captions else None,
            )

    def plan(self, seed: int) -> VideoPlan:
        """The plan for `seed`; raises PipelineError when a caption or the label would cover the product."""
        spec, mask = self.spec, self.mask
        placed = plan_layout(spec, mask, self.area, seed, forecast=self.forecast)
        if self.captions is not None:
            captions.check_clear(self.captions, placed.placements, placed.product_bbox)
        label = self.label
        if self.label_corners:
            label, placed = place_label(spec, mask, self.area, seed, placed, self.label_corners, self.forecast)
            ai_label.check_clear(label, placed.placements, placed.product_bbox, mask)
        return VideoPlan(layout=placed, captions=self.captions, ai_label=label)
