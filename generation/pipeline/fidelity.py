"""Stage 6: the fidelity lock. The real product pixels go back into every frame at the layout's placements.

Inside the product the frame gets exactly cv2.warpAffine(photo, placement) (bilinear, OpenCV's pixel-centre
convention), so whatever an engine drew there is replaced by the merchant's pixels. Only a 1–2 px band at the
silhouette is blended, from premultiplied colour so that the photo's backdrop never bleeds in as a halo.
"""

from __future__ import annotations

import cv2
import numpy as np

FEATHER_SIGMA = 0.6


def warp_product(photo_rgb: np.ndarray, mask: np.ndarray, placement: np.ndarray, frame_size: tuple[int, int]):
    """(colour, alpha) of the product in one frame: uint8 (H, W, 3) and float32 (H, W) in 0..1."""
    width, height = frame_size
    m = placement.astype(np.float64)
    colour = cv2.warpAffine(photo_rgb, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha_src = (mask > 0).astype(np.float32)
    alpha = cv2.warpAffine(alpha_src, m, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    if FEATHER_SIGMA > 0:
        alpha = np.minimum(alpha, cv2.GaussianBlur(alpha, (0, 0), FEATHER_SIGMA) * 1.25)
    # At the edge, take colour premultiplied by the mask so the photo's backdrop does not bleed in.
    edge = (alpha > 0) & (alpha < 0.999)
    if edge.any():
        premult = cv2.warpAffine(
            photo_rgb.astype(np.float32) * alpha_src[..., None],
            m,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderValue=0,
        )
        cover = cv2.warpAffine(alpha_src, m, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
        safe = np.maximum(cover, 1e-3)[..., None]
        colour = colour.copy()
        colour[edge] = np.clip(premult[edge] / safe[edge] + 0.5, 0, 255).astype(np.uint8)
    return colour, np.clip(alpha, 0.0, 1.0)


def lock_product(frames: np.ndarray, photo_rgb: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> np.ndarray:
    """Composite the product into each frame in place; returns `frames`."""
    n, height, width = frames.shape[:3]
    for i in range(n):
        colour, alpha = warp_product(photo_rgb, mask, placements[i], (width, height))
        inside = alpha >= 0.999
        band = (alpha > 0) & ~inside
        frame = frames[i]
        frame[inside] = colour[inside]
        if band.any():
            a = alpha[band][:, None]
            frame[band] = np.clip(colour[band] * a + frame[band] * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    return frames
