"""Stage 3: where the product sits in every frame.

A placement is a 2×3 affine matrix mapping a photo pixel (x, y, 1) to frame pixels, pixel centres at integer
coordinates (OpenCV's warpAffine convention). Camera motions are smooth functions of time, eased at both ends,
so the result looks filmed rather than like a slideshow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MOTIONS = ("push-in", "pan", "orbit-sway", "reveal")


@dataclass
class Layout:
    placements: np.ndarray  # (frames, 2, 3) float64
    motion: str
    product_bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 of the product in photo pixels
    extras: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return int(self.placements.shape[0])


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _ease(t: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * t)


def choose_motion(seed: int) -> str:
    return MOTIONS[seed % len(MOTIONS)]


def plan_layout(
    *,
    mask: np.ndarray,
    frame_size: tuple[int, int],
    frames: int,
    motion: str | None = None,
    seed: int = 0,
    fill: float = 0.62,
) -> Layout:
    """Per-frame placements for the product cut out by `mask` (H×W, photo size) in a frame of (width, height)."""
    if motion is None:
        motion = choose_motion(seed)
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}")
    width, height = frame_size
    x0, y0, x1, y1 = mask_bbox(mask)
    bw, bh = x1 - x0, y1 - y0
    pcx, pcy = (x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0
    # Rest scale: the product's box fills `fill` of the frame's limiting side.
    base = fill * min(width / bw, height / bh)
    t = np.linspace(0.0, 1.0, frames)
    e = _ease(t)
    rng = np.random.default_rng(seed)
    direction = 1.0 if rng.random() < 0.5 else -1.0

    scale = np.full(frames, base)
    angle = np.zeros(frames)
    cx = np.full(frames, (width - 1) / 2.0)
    cy = np.full(frames, (height - 1) / 2.0 + 0.04 * height)
    if motion == "push-in":
        scale = base * (0.92 + 0.12 * e)
    elif motion == "pan":
        cx = cx + direction * 0.10 * width * (e - 0.5) * 2
        scale = base * (1.0 + 0.03 * np.sin(np.pi * t))
    elif motion == "orbit-sway":
        angle = direction * 3.0 * np.sin(2 * np.pi * t)  # degrees; a slow sway as if the camera circled
        cx = cx + direction * 0.04 * width * np.sin(2 * np.pi * t)
        scale = base * (1.0 + 0.04 * np.sin(np.pi * t))
    elif motion == "reveal":
        # The product rises into its place and settles, the camera easing back slightly.
        reveal = _ease(np.clip(t / 0.45, 0, 1))
        cy = cy + (1.0 - reveal) * 0.35 * height
        scale = base * (1.08 - 0.08 * e)

    placements = np.zeros((frames, 2, 3), np.float64)
    for i in range(frames):
        a = math.radians(float(angle[i]))
        s = float(scale[i])
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * s
        placements[i, :, :2] = rot
        placements[i, :, 2] = np.array([cx[i], cy[i]]) - rot @ np.array([pcx, pcy])
    return Layout(placements=placements, motion=motion, product_bbox=(x0, y0, x1, y1))
