"""Layout: every motion, aspect ratio and product shape keeps the product inside the safe margin, moves smoothly."""

import numpy as np
import pytest

from generation.constants import FRAME_SIZES
from generation.pipeline.layout import MOTIONS, frame_extent, plan_layout, product_corners

SHAPES = {
    "tall": (60, 40, 140, 560),  # x0, y0, x1, y1 of the product in a 600×700 photo
    "wide": (20, 280, 580, 400),
    "square": (150, 200, 450, 500),
    "tiny": (290, 340, 310, 360),
}


def _mask(box, size=(600, 700)):
    mask = np.zeros((size[1], size[0]), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return mask


@pytest.mark.parametrize("motion", MOTIONS)
@pytest.mark.parametrize("aspect", list(FRAME_SIZES["480p"]))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_product_inside_safe_margin_and_motion_is_smooth(motion, aspect, shape):
    width, height = FRAME_SIZES["480p"][aspect]
    plan = plan_layout(mask=_mask(SHAPES[shape]), frame_size=(width, height), frames=81, motion=motion, seed=1)
    p = plan.placements
    assert p.shape == (81, 2, 3) and p.dtype == np.float64
    margin = plan.extras["safe_margin"]
    ext = frame_extent(p, plan.product_bbox)
    assert ext[:, 0].min() >= margin - 1e-6 and ext[:, 1].min() >= margin - 1e-6
    assert ext[:, 2].max() <= width - 1 - margin + 1e-6 and ext[:, 3].max() <= height - 1 - margin + 1e-6
    # The product is a sensible size: its box fills a good part of the frame's limiting side.
    size = np.maximum((ext[:, 2] - ext[:, 0]) / width, (ext[:, 3] - ext[:, 1]) / height)
    assert size.min() > 0.4
    # Smooth: the product's corners move by small steps with no jumps, and the velocity changes gradually.
    pts = np.einsum("fij,kj->fki", p[:, :, :2], product_corners(plan.product_bbox)) + p[:, None, :, 2]
    corners = pts.reshape(len(p), -1)  # the four corners' trajectories (x, y each)
    velocity = np.diff(corners, axis=0)
    accel = np.diff(velocity, axis=0)
    diagonal = np.hypot(width, height)
    assert np.abs(velocity).max() < 0.02 * diagonal
    assert np.abs(accel).max() < 0.002 * diagonal
    # Eased: it starts and settles slowly compared with the middle of the move.
    speed = np.abs(velocity).max(axis=1)
    assert speed[0] <= 0.25 * speed.max() + 1e-9 and speed[-1] <= 0.25 * speed.max() + 1e-9
    # And it is a camera move, not a still.
    assert np.abs(corners[:, None] - corners[None]).max() > 0.02 * min(width, height)


def test_seed_picks_direction_and_default_motion():
    mask = _mask(SHAPES["square"])
    motions = {plan_layout(mask=mask, frame_size=(480, 832), frames=9, seed=s).motion for s in range(4)}
    assert motions == set(MOTIONS)
    with pytest.raises(ValueError):
        plan_layout(mask=mask, frame_size=(480, 832), frames=9, motion="zoom-blur")


def test_placement_maps_product_centre_near_frame_centre_at_rest():
    plan = plan_layout(mask=_mask(SHAPES["square"]), frame_size=(640, 640), frames=21, motion="push-in")
    m = plan.placements[-1]
    centre = m[:, :2] @ np.array([299.5, 349.5]) + m[:, 2]
    assert np.allclose(centre, [319.5, 319.5], atol=1.0)
