"""Boundary matting: a soft, anti-aliased alpha along the product's silhouette only.

A guided filter (He et al.) of the binary mask, guided by the photo's own brightness, follows the real edge's
gradient across a narrow band. Only outwards: on the mask the alpha is exactly 1, so every product pixel (and QA's
region) stays exact, and within ``BAND`` px outside it the alpha falls off as the photographed edge does; beyond
that it is exactly 0. Computed in the product's box.
"""

from __future__ import annotations

import cv2
import numpy as np

BAND = 2  # px outside the binary silhouette that may be partly covered
RADIUS = 2  # the guided filter's window radius (px)
EPS = 1e-3  # its regularisation: below this local variance (flat colour) the mask is only smoothed


def boundary_matte(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W) float32 0..1: 1 on the mask, soft within ``BAND`` px outside it, 0 beyond."""
    fg = mask > 0
    matte = fg.astype(np.float32)
    ys, xs = np.nonzero(fg)
    if not len(xs):
        return matte
    h, w = fg.shape
    pad = BAND + RADIUS + 2
    x0, y0 = max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad)
    x1, y1 = min(w, int(xs.max()) + 1 + pad), min(h, int(ys.max()) + 1 + pad)
    box = fg[y0:y1, x0:x1].astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND + 1, 2 * BAND + 1))
    inner, outer = box > 0, cv2.dilate(box, kernel) > 0
    guide = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    soft = np.clip(_guided_filter(guide, box.astype(np.float32), RADIUS, EPS), 0.0, 1.0)
    out = np.where(inner, 1.0, np.where(outer, soft, 0.0)).astype(np.float32)
    matte[y0:y1, x0:x1] = out
    return matte


def _guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = mean(guide), mean(src)
    cov = mean(guide * src) - mean_i * mean_p
    var = mean(guide * guide) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return mean(a) * guide + mean(b)
