"""Shared types and colour helpers of the scene painters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SceneGeometry:
    """Where things are on the canvas, in canvas pixels (1 canvas px = 1 frame px at frame 0).

    The canvas is larger than the frame so that the camera can move over it; `view_*` is frame 0's rectangle,
    `floor_y` the line the product stands on, `product_*` its typical centre and size on the canvas.
    """

    width: int
    height: int
    view_x: float
    view_y: float
    view_w: int
    view_h: int
    floor_y: float
    product_x: float
    product_w: float
    product_h: float

    def rows(self) -> np.ndarray:
        return np.arange(self.height, dtype=np.float32)[:, None]

    def cols(self) -> np.ndarray:
        return np.arange(self.width, dtype=np.float32)[None, :]


@dataclass(frozen=True)
class LightSpec:
    """A soft light patch drifting from `start` to `end` (canvas px) over the video: gain 1 + amount · tint."""

    start: tuple[float, float]
    end: tuple[float, float]
    radius: float
    amount: float
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass
class SceneLayers:
    base: np.ndarray  # (H, W, 3) uint8, opaque background on the canvas
    light: LightSpec
    shadow_tint: np.ndarray  # (3,) float32 in 0..1: what the floor colour is multiplied by in full shadow
    shadow_strength: float = 0.6
    vignette: float = 0.14  # darkening at the frame's corners (a lens property: fixed on screen)
    glow: np.ndarray | None = None  # (h, w, 3) uint8 added on top, at `glow_scale` of the canvas resolution
    glow_scale: float = 0.5
    glow_drift: tuple[float, float] = (0.0, 0.0)  # canvas px the glow layer travels over the whole video


def hex_to_rgb(value: str) -> np.ndarray:
    value = value.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    if len(value) != 6:
        raise ValueError(f"not a hex colour: {value!r}")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], np.float32)


def luminance(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)) / 255.0


def lighten(rgb: np.ndarray, amount: float) -> np.ndarray:
    return rgb + (255.0 - rgb) * amount


def darken(rgb: np.ndarray, amount: float) -> np.ndarray:
    return rgb * (1.0 - amount)


def mix(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """a→b by t; t of shape (H, W) or (H, 1) is broadcast over the colour channels."""
    if isinstance(t, np.ndarray) and t.ndim == 2:
        t = t[..., None]
    return np.asarray(a * (1.0 - t) + b * t, dtype=np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)
