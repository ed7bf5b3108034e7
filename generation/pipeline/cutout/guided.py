"""Guided cutout: the merchant's rough box plus keep / remove strokes, settled by a GrabCut graph cut.

GrabCut (OpenCV) fits colour models (Gaussian mixtures) to the product and the background and cuts along colour
edges. Outside the box is sure background, the strokes are sure product / background, the rest of the box is
"probably product". It runs on a crop around the box (the box plus a margin of background to learn its colours
from) at a working size of at most ``WORK_SIDE``; the classical path's full-resolution refinement then settles a
narrow band along the silhouette from the full-resolution colours.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import confidence
from .base import CutoutGuide
from .classical import refine_full_resolution

WORK_SIDE = 640  # longest side of the crop the graph cut runs on (time grows with pixels × iterations)
MARGIN = 0.15  # background around the box, as a share of the box's size, for the background colour model
ITERATIONS = 4
RNG_SEED = 0  # GrabCut seeds its colour models by k-means from OpenCV's per-thread random state


def guided_cutout(rgb: np.ndarray, guide: CutoutGuide) -> tuple[np.ndarray, float]:
    """The product mask (0/255 at the photo's size) and its confidence. `guide` must be validated."""
    h, w = rgb.shape[:2]
    bx0, by0, bx1, by1 = guide.box
    mx, my = round(MARGIN * (bx1 - bx0)) + 8, round(MARGIN * (by1 - by0)) + 8
    cx0, cy0, cx1, cy1 = max(0, bx0 - mx), max(0, by0 - my), min(w, bx1 + mx), min(h, by1 + my)
    crop = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1])
    ch, cw = crop.shape[:2]
    scale = min(1.0, WORK_SIDE / max(ch, cw))
    sw, sh = max(1, round(cw * scale)), max(1, round(ch * scale))
    small = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else crop

    labels = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    sx0, sy0 = int((bx0 - cx0) * scale), int((by0 - cy0) * scale)
    sx1, sy1 = int(np.ceil((bx1 - cx0) * scale)), int(np.ceil((by1 - cy0) * scale))
    labels[sy0:sy1, sx0:sx1] = cv2.GC_PR_FGD
    radius = max(1, round(guide.radius_for(w, h) * scale))
    for strokes, value in ((guide.remove, cv2.GC_BGD), (guide.keep, cv2.GC_FGD)):
        for stroke in strokes:
            pts = np.array([((x - cx0) * scale, (y - cy0) * scale) for x, y in stroke], np.float32)
            pts = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(labels, [pts], False, int(value), thickness=2 * radius + 1)
            for x, y in pts[:, 0]:
                cv2.circle(labels, (int(x), int(y)), radius, int(value), -1)
    if not ((labels == cv2.GC_PR_FGD) | (labels == cv2.GC_FGD)).any():
        return np.zeros((h, w), np.uint8), 0.0
    if not (labels == cv2.GC_BGD).any():  # a box flush with every side of the photo: no background to learn from
        labels[0, :] = labels[-1, :] = cv2.GC_PR_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    # A fixed seed: the same photo and guide give the same mask and confidence on every call (the preview, the saved
    # cutout and a retry agree), whatever OpenCV computed before in this thread.
    cv2.setRNGSeed(RNG_SEED)
    cv2.grabCut(bgr, labels, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    fg = _fill_small_holes(fg)
    open_sides = (bx0 == 0, by0 == 0, bx1 == w, by1 == h)
    sure = confidence.guided(fg, small, (sx0, sy0, min(sw, sx1), min(sh, sy1)), open_sides)
    refined = refine_full_resolution(crop, small, fg, scale) if fg.any() else np.zeros((ch, cw), np.uint8)
    if guide.keep or guide.remove:  # the merchant's strokes are the last word, at full resolution
        _paint_strokes(refined, guide, (cx0, cy0), w, h)
    mask = np.zeros((h, w), np.uint8)
    mask[cy0:cy1, cx0:cx1] = refined
    mask[:, :bx0] = 0
    mask[:, bx1:] = 0
    mask[:by0, :] = 0
    mask[by1:, :] = 0
    return mask, sure


def _fill_small_holes(fg: np.ndarray) -> np.ndarray:
    """Background specks enclosed by the product (texture the colour model misread) become product."""
    inv = (~fg).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    if count <= 1:
        return fg
    h, w = fg.shape
    touches = np.zeros(count, bool)
    touches[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    small = stats[:, cv2.CC_STAT_AREA] < max(16, 0.0005 * h * w)
    return fg | (small & ~touches)[labels]


def _paint_strokes(mask: np.ndarray, guide: CutoutGuide, origin: tuple[int, int], w: int, h: int) -> None:
    radius = max(1, round(guide.radius_for(w, h)))
    for strokes, value in ((guide.remove, 0), (guide.keep, 255)):
        for stroke in strokes:
            pts = np.round(np.array([(x - origin[0], y - origin[1]) for x, y in stroke], np.float32))
            pts = pts.astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(mask, [pts], False, value, thickness=2 * radius + 1)
            for x, y in pts[:, 0]:
                cv2.circle(mask, (int(x), int(y)), radius, value, -1)
