"""Where the visible AI label goes: a corner the product never reaches, so the label costs the product no size."""

from __future__ import annotations

import numpy as np
import pytest

from generation.pipeline import ai_label, layout
from generation.pipeline.plan import place_label, plan_layout
from generation.pipeline.spec import VariantSpec
from tests import synthetic


@pytest.fixture(scope="module")
def mask() -> np.ndarray:
    _, alpha = synthetic.product_png_alpha(480, 600, seed=1)
    return (np.asarray(alpha) > 0).astype(np.uint8) * 255


def _scale(plan: layout.Layout) -> float:
    return float(np.hypot(*plan.placements[0][:, 0]))


def _corners(spec: VariantSpec) -> list[ai_label.LabelPlan]:
    market = spec.market_preset
    first = ai_label.plan_label(
        market=market, engine=spec.engine, width=spec.width, height=spec.height, platform=spec.platform_slug
    )
    return ai_label.corner_plans(
        first, width=spec.width, height=spec.height, platform=spec.platform_slug, direction=market.direction
    )


@pytest.mark.parametrize("aspect", ["1:1", "9:16", "16:9"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_label_never_shrinks_the_product_when_a_motion_leaves_a_corner_free(mask, aspect, seed):
    spec = VariantSpec(market="de", aspect_ratio=aspect, seconds=1, seed=seed)
    assert spec.market_preset.ai_label
    full = (0, 0, spec.width, spec.height)
    corners = _corners(spec)
    label, plan = place_label(spec, mask, full, seed, plan_layout(spec, mask, full, seed), corners)
    ai_label.check_clear(label, plan.placements, plan.product_bbox, mask)  # never over the product, in any frame
    unlabelled = {m: plan_layout(spec, mask, full, seed, m) for m in layout.MOTIONS}
    free = [
        m
        for m, p in unlabelled.items()
        if any(ai_label.is_clear(c, p.placements, p.product_bbox, mask) for c in corners)
    ]
    if free:
        # Same size as without a label, in a motion that leaves a corner free (the seed's own when it does).
        assert plan.motion in free
        assert _scale(plan) == pytest.approx(_scale(unlabelled[plan.motion]))
        if unlabelled[layout.choose_motion(seed)].motion in free:
            assert plan.motion == layout.choose_motion(seed)
    else:
        assert _scale(plan) < _scale(unlabelled[plan.motion])


def test_a_fixed_motion_that_reaches_every_corner_gets_a_band_for_the_label():
    mask = np.full((600, 480), 255, np.uint8)  # a box-shaped product fills its box: no empty corner
    spec = VariantSpec(market="de", aspect_ratio="1:1", seconds=1, seed=1, motion="pan")
    full = (0, 0, spec.width, spec.height)
    corners = _corners(spec)
    plain = plan_layout(spec, mask, full, 1)
    assert not any(ai_label.is_clear(c, plain.placements, plain.product_bbox, mask) for c in corners)
    label, plan = place_label(spec, mask, full, 1, plain, corners)
    assert plan.motion == "pan"  # the merchant's choice of motion is kept
    assert label.rect == corners[0].rect
    assert _scale(plan) < _scale(plain)  # the band costs size: the last resort
    ai_label.check_clear(label, plan.placements, plan.product_bbox, mask)


def test_the_products_own_pixels_decide_not_its_box(mask):
    # The merchant's brush made the photo's top-left corner product: its box now reaches every corner of the frame
    # in 1:1, but the top-right of the box is empty, so the label goes there and the product keeps its size.
    brushed = mask.copy()
    brushed[0:48, 0:58] = 255
    spec = VariantSpec(market="de", aspect_ratio="1:1", seconds=1, seed=0)
    full = (0, 0, spec.width, spec.height)
    corners = _corners(spec)
    plain = plan_layout(spec, brushed, full, 0)
    assert not any(ai_label.is_clear(c, plain.placements, plain.product_bbox) for c in corners)  # by the box
    label, plan = place_label(spec, brushed, full, 0, plain, corners)
    assert label.rect == corners[1].rect and plan is plain  # top line-end, same layout, same size
    # Where the brushed corner is, the label would touch product pixels: refused.
    with pytest.raises(ai_label.LabelError):
        ai_label.check_clear(corners[0], plan.placements, plan.product_bbox, brushed)


def test_corners_in_reading_order_and_clear_of_the_caption():
    spec = VariantSpec(market="de", aspect_ratio="9:16", seconds=1)
    corners = _corners(spec)
    xs = [c.rect[0] for c in corners]
    assert xs[0] < xs[1] and xs[2] < xs[3]  # line-start first (German reads left to right)
    assert corners[0].rect[1] < corners[2].rect[1]  # top before bottom
    caption = (0, spec.height - 200, spec.width, spec.height)
    first = corners[0]
    kept = ai_label.corner_plans(
        first, width=spec.width, height=spec.height, platform=spec.platform_slug, direction="ltr", avoid=caption
    )
    assert [c.rect for c in kept] == [c.rect for c in corners[:2]]
