"""A product cut by the photo's edge keeps that edge on the frame's edge in every frame (the arm enters from the
border, it does not float in the scene)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.constants import FRAME_SIZES
from generation.pipeline.layout import MOTIONS, cut_sides, frame_extent, plan_layout

PHOTO = (600, 800)  # width, height


def _held_product(sides: set[str]) -> np.ndarray:
    """A product (a box with an arm) running off the photo on `sides`."""
    w, h = PHOTO
    mask = np.zeros((h, w), np.uint8)
    mask[250:520, 180:420] = 255  # the product
    if "bottom" in sides:
        mask[500:, 260:340] = 255  # the forearm to the bottom border
    if "left" in sides:
        mask[330:400, :200] = 255
    if "top" in sides:
        mask[:260, 280:330] = 255
    return mask


def _warped(mask: np.ndarray, placement: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.warpAffine(mask, placement, size, flags=cv2.INTER_LINEAR)


@pytest.mark.parametrize("motion", MOTIONS)
@pytest.mark.parametrize("aspect", ["9:16", "1:1", "16:9"])
def test_a_product_cut_at_the_bottom_reaches_the_frame_bottom_in_every_frame(motion, aspect):
    width, height = FRAME_SIZES["480p"][aspect]
    mask = _held_product({"bottom"})
    plan = plan_layout(mask=mask, frame_size=(width, height), frames=33, motion=motion, seed=3)
    assert plan.extras["anchored"] == ["bottom"]
    for placement in plan.placements:
        frame = _warped(mask, placement, (width, height))
        assert (frame[-1] == 255).sum() >= 10  # the arm's full coverage on the frame's last row
    ext = frame_extent(plan.placements, plan.product_bbox)
    margin = plan.extras["safe_margin"]
    assert ext[:, 0].min() >= margin - 1e-6 and ext[:, 2].max() <= width - 1 - margin + 1e-6
    assert ext[:, 1].min() >= margin - 1e-6  # the other sides keep the safe margin


def test_a_product_cut_on_the_left_reaches_the_frame_left_in_every_frame():
    mask = _held_product({"left"})
    plan = plan_layout(mask=mask, frame_size=(480, 832), frames=33, motion="orbit-sway", seed=0)
    assert plan.extras["anchored"] == ["left"]
    for placement in plan.placements:
        assert (_warped(mask, placement, (480, 832))[:, 0] == 255).sum() >= 10


def test_a_product_touching_a_corner_is_laid_out_as_before():
    # Two sides touched is a framing choice (or a brushed corner), not an arm: no side is pinned.
    mask = _held_product({"top", "left"})
    assert cut_sides(mask) == frozenset({"top", "left"})
    plan = plan_layout(mask=mask, frame_size=(480, 832), frames=17, motion="pan", seed=0)
    assert "anchored" not in plan.extras


def test_a_product_inside_the_photo_is_not_anchored():
    mask = _held_product(set())
    assert cut_sides(mask) == frozenset()
    plan = plan_layout(mask=mask, frame_size=(480, 832), frames=17, motion="pan", seed=0)
    assert "anchored" not in plan.extras
