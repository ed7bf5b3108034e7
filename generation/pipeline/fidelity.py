"""Stage 6: the fidelity lock. The real product pixels go back into every frame at the layout's placements.

The layer itself (exact inside, feathered at the silhouette) is `generation.engines.product_layer`.
"""

from __future__ import annotations

import numpy as np

from generation.engines.product_layer import (
    MARGIN,
    FidelityLock,
    ProductLayer,
    ProductSource,
    warp_box_exact,
    warp_product,
)

__all__ = [
    "MARGIN",
    "FidelityLock",
    "ProductLayer",
    "ProductSource",
    "lock_frames",
    "lock_product",
    "warp_box_exact",
    "warp_product",
]


def lock_frames(
    frames: np.ndarray,
    photo_rgb: np.ndarray,
    mask: np.ndarray,
    placements: np.ndarray,
    matte: np.ndarray | None = None,
):
    """Composite the product into each frame in place; returns the per-frame layers (for encode and QA)."""
    n, height, width = frames.shape[:3]
    if n != len(placements):
        raise ValueError(f"{n} frames but {len(placements)} placements")
    lock = FidelityLock(photo_rgb, mask, (width, height), matte)
    return [lock.apply(frames[i], placements[i]) for i in range(n)]


def lock_product(frames: np.ndarray, photo_rgb: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> np.ndarray:
    """Composite the product into each frame in place; returns `frames`."""
    lock_frames(frames, photo_rgb, mask, placements)
    return frames
