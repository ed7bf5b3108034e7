"""The planning step: one plan per attempt (layout, caption band, AI label corner) that the later stages consume."""

from __future__ import annotations

import numpy as np
import pytest

from generation.pipeline import ai_label, layout
from generation.pipeline.plan import Planner
from generation.pipeline.spec import VariantSpec
from tests import synthetic


@pytest.fixture(scope="module")
def product() -> tuple[np.ndarray, np.ndarray]:
    image, alpha = synthetic.product_png_alpha(480, 600, seed=1)
    return np.asarray(image.convert("RGB")), (np.asarray(alpha) > 0).astype(np.uint8) * 255


def _spec(seed: int = 0) -> VariantSpec:
    # Germany's market asks for the visible AI label; the caption takes a band of the frame.
    return VariantSpec(
        market="de", aspect_ratio="9:16", seconds=1, seed=seed, captions=True, product_title="Rucksack", price="49.90"
    )


def test_the_plan_keeps_the_product_inside_the_caption_free_area_in_every_frame(product):
    photo, mask = product
    plan = Planner(_spec(), photo, mask).plan(0)
    assert plan.captions is not None
    x0, y0, x1, y1 = plan.captions.product_area
    extent = layout.frame_extent(plan.layout.placements, plan.layout.product_bbox)
    assert (extent[:, 0] >= x0).all() and (extent[:, 1] >= y0).all()
    assert (extent[:, 2] <= x1).all() and (extent[:, 3] <= y1).all()


def test_the_plan_puts_the_ai_label_where_the_product_never_goes(product):
    photo, mask = product
    plan = Planner(_spec(), photo, mask).plan(0)
    assert plan.ai_label is not None and plan.ai_label.text
    assert ai_label.is_clear(plan.ai_label, plan.layout.placements, plan.layout.product_bbox, mask)


def test_each_seed_gets_its_own_layout_under_the_same_caption(product):
    photo, mask = product
    planner = Planner(_spec(), photo, mask)
    first, second = planner.plan(0), planner.plan(1)
    assert first.captions is second.captions
    assert first.layout.motion != second.layout.motion
    assert first.fidelity_summary()["fill"] > 0 and "predicted_psnr" in first.layout.extras
