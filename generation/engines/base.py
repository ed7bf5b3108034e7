"""The engine protocol: an engine turns a render request into frames. The fidelity lock and QA come after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from generation.presets import LookPreset, MarketPresetData, ScenePreset

ProgressCallback = Callable[[float], None]  # fraction 0..1 of the render; may raise JobCanceled


@dataclass
class Layout:
    """Where the product sits in every frame (planned by the pipeline's layout stage)."""

    placements: np.ndarray  # (frames, 2, 3) float64
    motion: str
    product_bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 of the product in photo pixels
    extras: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return int(self.placements.shape[0])


def _no_progress(_: float) -> None:
    return None


@dataclass
class RenderRequest:
    photo_rgb: np.ndarray  # (H, W, 3) uint8, sRGB
    mask: np.ndarray  # (H, W) uint8 0/255, the product
    layout: Layout
    width: int
    height: int
    fps: int
    frames: int
    market: MarketPresetData
    scene: ScenePreset
    palette: tuple[str, ...]
    look: LookPreset | None = None
    product_title: str = ""
    product_category: str = "other"
    seed: int = 0
    steps: int | None = None
    on_progress: ProgressCallback = _no_progress
    options: dict = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def render(self, request: RenderRequest) -> np.ndarray:
        """Frames (request.frames, height, width, 3) uint8 RGB, the product drawn at the layout's placements."""
        ...
