"""Stage 3: where the product sits in every frame.

A placement is a 2×3 affine matrix mapping a photo pixel (x, y, 1) to frame pixels, pixel centres at integer
coordinates (OpenCV's warpAffine convention). Camera motions are smooth functions of time, eased at both ends,
so the result looks filmed rather than like a slideshow.
"""

from __future__ import annotations

import numpy as np

from generation.engines.base import Layout
from generation.engines.poses import choose_template, layout_fill

MOTIONS = ("push-in", "pan", "orbit-sway", "reveal")


SIDES = ("left", "top", "right", "bottom")
MIN_CUT_SHARE = 0.02  # of a photo border's length: the product was cut by the photo's edge there


def cut_sides(mask: np.ndarray) -> frozenset[str]:
    """The photo borders the product is cut by (a held product's arm, a garment cropped at the bottom)."""
    fg = mask > 0
    h, w = fg.shape
    lines = {"left": fg[:, 0], "top": fg[0, :], "right": fg[:, -1], "bottom": fg[-1, :]}
    length = {"left": h, "top": w, "right": h, "bottom": w}
    return frozenset(s for s, line in lines.items() if line.sum() >= max(3, MIN_CUT_SHARE * length[s]))


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _ease(t: np.ndarray) -> np.ndarray:
    """Smootherstep: zero velocity and acceleration at both ends, so a move starts and settles like a dolly's."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * t * (t * (6.0 * t - 15.0) + 10.0)


def choose_motion(seed: int) -> str:
    return MOTIONS[seed % len(MOTIONS)]


SAFE_MARGIN = 0.05  # of the frame's shorter side: the product never comes closer to an edge than this


def _curves(motion: str, t: np.ndarray, direction: float) -> dict[str, np.ndarray]:
    """Unit camera curves: scale factor, angle (degrees), and x/y offsets as fractions of the free room."""
    e = _ease(t)
    zero = np.zeros_like(t)
    if motion == "push-in":
        return {"scale": 0.90 + 0.12 * e, "angle": zero, "dx": zero, "dy": 0.15 * (1 - e)}
    if motion == "pan":
        return {"scale": 1.0 + 0.03 * np.sin(np.pi * e), "angle": zero, "dx": direction * (2 * e - 1), "dy": zero}
    if motion == "orbit-sway":
        # One slow sway, as if the camera circled the product and came back; eased so it starts and ends at rest.
        sway = np.sin(2 * np.pi * e)
        return {"scale": 1.0 + 0.04 * np.sin(np.pi * e), "angle": direction * 3.0 * sway, "dx": 0.5 * sway, "dy": zero}
    if motion == "reveal":
        # The product rises into its place from low in the frame and settles while the camera eases back.
        rise = _ease(t / 0.55)
        return {"scale": 1.06 - 0.06 * e, "angle": zero, "dx": zero, "dy": 1.0 - rise}
    raise ValueError(f"unknown motion {motion!r}")


def _placements(
    curves: dict[str, np.ndarray], base: float, centre: tuple[float, float], room: tuple[float, float], pc
) -> np.ndarray:
    frames = len(curves["scale"])
    a = np.radians(curves["angle"])
    s = base * curves["scale"]
    cx = centre[0] + curves["dx"] * room[0]
    cy = centre[1] + curves["dy"] * room[1]
    out = np.zeros((frames, 2, 3), np.float64)
    out[:, 0, 0], out[:, 0, 1] = s * np.cos(a), -s * np.sin(a)
    out[:, 1, 0], out[:, 1, 1] = s * np.sin(a), s * np.cos(a)
    out[:, 0, 2] = cx - (out[:, 0, 0] * pc[0] + out[:, 0, 1] * pc[1])
    out[:, 1, 2] = cy - (out[:, 1, 0] * pc[0] + out[:, 1, 1] * pc[1])
    return out


def product_corners(bbox: tuple[int, int, int, int]) -> np.ndarray:
    """The corners of the product's box in photo pixel coordinates (pixel centres), (4, 2)."""
    x0, y0, x1, y1 = bbox
    return np.array([[x0, y0], [x1 - 1, y0], [x1 - 1, y1 - 1], [x0, y1 - 1]], np.float64)


def frame_extent(placements: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
    """Per frame, the product box's extent in the frame: (frames, 4) as x_min, y_min, x_max, y_max."""
    pts = np.einsum("fij,kj->fki", placements[:, :, :2], product_corners(bbox)) + placements[:, None, :, 2]
    return np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1)


# A product-only shot is a hero shot: the product fills most of the frame's shorter side. Larger is also truer:
# 4:2:0 video keeps one colour sample per 2×2 pixels, so the less a detailed product is shrunk, the closer its
# print and logos stay to the photo (measured on the synthetic label bottle at 16:9: 37.4 dB min at fill 0.62,
# 39.1 dB at 0.8). The safe margin below still bounds every motion.
PRODUCT_ONLY_FILL = 0.78
# With a person, full-body framing would shrink small products (a lipstick, a mug) to a few dozen pixels; below this
# fill the shot becomes a medium shot instead (the person cropped, the product still prominent and legible).
MODEL_SHOT_MIN_FILL = 0.4
# A product whose detail 4:2:0 would lose at the planned size grows (plan.plan_layout forecasts it) up to these:
# a closer hero shot, or a medium close-up of the person, whose pose still scales with the product.
PRODUCT_ONLY_MAX_FILL = 0.9
MODEL_SHOT_MAX_FILL = 0.62


def product_fill(*, frame_size: tuple[int, int], category: str, aspect_ratio: str, with_model: bool) -> float:
    """How much of the frame's limiting side the product takes at rest: less when a person must fit around it."""
    if not with_model:
        return PRODUCT_ONLY_FILL
    return max(MODEL_SHOT_MIN_FILL, layout_fill(choose_template(category, aspect_ratio), frame_size))


def max_product_fill(*, with_model: bool) -> float:
    return MODEL_SHOT_MAX_FILL if with_model else PRODUCT_ONLY_MAX_FILL


def plan_layout(
    *,
    mask: np.ndarray,
    frame_size: tuple[int, int],
    frames: int,
    motion: str | None = None,
    seed: int = 0,
    fill: float = 0.62,
    anchored: frozenset[str] | None = None,
) -> Layout:
    """Per-frame placements for the product cut out by `mask` (H×W, photo size) in a frame of (width, height).

    The product's box fills `fill` of the frame's limiting side at rest; each motion moves within the room the
    frame leaves, and the whole move is scaled down until the product's box (rotated, scaled, moved) stays inside
    the safe margin in every frame. All curves are smooth in time (continuous velocity), eased at the ends.

    A product cut by the photo's edge (`anchored`; by default the side the mask touches, when it touches just one)
    keeps that edge on the frame's edge in every frame: the motion still moves and scales it, but without rotation,
    and the cut side is pinned one pixel past the frame's border, so an arm enters from the border instead of
    floating in the scene.
    """
    if motion is None:
        motion = choose_motion(seed)
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}")
    if frames < 1:
        raise ValueError("frames must be at least 1")
    width, height = frame_size
    bbox = mask_bbox(mask)
    x0, y0, x1, y1 = bbox
    bw, bh = x1 - x0, y1 - y0
    pc = ((x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0)
    margin = SAFE_MARGIN * min(width, height)
    t = np.linspace(0.0, 1.0, frames) if frames > 1 else np.ones(1)
    direction = 1.0 if np.random.default_rng(seed).random() < 0.5 else -1.0
    curves = _curves(motion, t, direction)
    if anchored is None:
        cut = cut_sides(mask)
        # One cut side is an arm or a cropped hem; a corner or the whole photo is a framing choice, laid out as is.
        anchored = cut if len(cut) == 1 else frozenset()
    if anchored:
        curves["angle"] = np.zeros_like(t)  # a tilted cut edge would leave a wedge of scene beside it
    centre = ((width - 1) / 2.0, (height - 1) / 2.0)
    # The shorter of the frame's sides limits the product; tall products sit a little low, as on a table.
    base = fill * min(width / bw, height / bh)
    for _ in range(40):
        peak = base * float(curves["scale"].max())
        room = (
            max(0.0, (width - 2 * margin - peak * bw) / 2.0) * 0.5,
            max(0.0, (height - 2 * margin - peak * bh) / 2.0) * 0.5,
        )
        placements = _anchor(_placements(curves, base, centre, room, pc), bbox, anchored, (width, height))
        ext = frame_extent(placements, bbox)
        overflow = {
            "left": margin - ext[:, 0].min(),
            "top": margin - ext[:, 1].min(),
            "right": ext[:, 2].max() - (width - 1 - margin),
            "bottom": ext[:, 3].max() - (height - 1 - margin),
        }
        worst = max((v for side, v in overflow.items() if side not in anchored), default=0.0)
        if worst <= 0:
            break
        base *= 0.97
    else:  # pragma: no cover - a box that fits nowhere would need a frame smaller than its margins
        raise ValueError("the product cannot be placed inside the frame")
    extras = {"safe_margin": margin, **({"anchored": sorted(anchored)} if anchored else {})}
    return Layout(placements=placements, motion=motion, product_bbox=bbox, extras=extras)


def _anchor(
    placements: np.ndarray, bbox: tuple[int, int, int, int], sides: frozenset[str], frame_size: tuple[int, int]
) -> np.ndarray:
    """Shift each (unrotated) placement so the product's cut sides lie one pixel past the frame's borders."""
    if not sides:
        return placements
    out = placements.copy()
    width, height = frame_size
    x0, y0, x1, y1 = bbox
    sx, sy = out[:, 0, 0], out[:, 1, 1]
    # the photo's outer pixel boundary (x0 - 0.5 … x1 - 0.5) lands at -1.5 or size + 0.5 in frame coordinates
    if "left" in sides:
        out[:, 0, 2] = -1.5 - sx * (x0 - 0.5)
    elif "right" in sides:
        out[:, 0, 2] = width + 0.5 - sx * (x1 - 0.5)
    if "top" in sides:
        out[:, 1, 2] = -1.5 - sy * (y0 - 0.5)
    elif "bottom" in sides:
        out[:, 1, 2] = height + 0.5 - sy * (y1 - 0.5)
    return out
