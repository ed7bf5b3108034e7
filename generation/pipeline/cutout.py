"""Stage 2: the product mask. A supplied mask wins; then a PNG's alpha; then classical segmentation.

Segmentation models the background from the photo's border (a smooth polynomial per channel, so plain and
gradient backdrops both fit), marks pixels that differ from it, rejects shadows (darker but same chromaticity
as the backdrop), refines with GrabCut and cleans up with morphology.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadInputError
from .ingest import IngestedPhoto, read_bytes

WORK_SIDE = 768  # segmentation runs on a downscaled copy; the mask is scaled back up


class CutoutError(BadInputError):
    code = "cutout_failed"


@dataclass
class Cutout:
    mask: np.ndarray  # (H, W) uint8, 0 or 255, at the photo's size
    source: str  # "supplied" | "alpha" | "segmented"

    @property
    def coverage(self) -> float:
        return float((self.mask > 0).mean())


def compute_cutout(photo: IngestedPhoto, supplied_mask: np.ndarray | None = None) -> Cutout:
    if supplied_mask is not None:
        mask = _binary(supplied_mask)
        if mask.shape != (photo.height, photo.width):
            mask = cv2.resize(mask, (photo.width, photo.height), interpolation=cv2.INTER_NEAREST)
        return _checked(Cutout(mask, "supplied"))
    if photo.alpha is not None:
        return _checked(Cutout(_binary(photo.alpha), "alpha"))
    return _checked(Cutout(segment_plain_background(photo.rgb), "segmented"))


def load_mask(source: str | Path | bytes | IO[bytes]) -> np.ndarray:
    """A merchant-supplied mask file (white = product); EXIF-rotated like the photo."""
    try:
        img = ImageOps.exif_transpose(Image.open(io.BytesIO(read_bytes(source))))
    except (UnidentifiedImageError, OSError) as exc:
        raise CutoutError("The mask is not an image.", "bad_mask") from exc
    if img.mode in ("RGBA", "LA"):
        return _binary(np.array(img.getchannel("A")))
    return _binary(np.array(img.convert("L")))


def _binary(values: np.ndarray) -> np.ndarray:
    return np.where(values > 127, 255, 0).astype(np.uint8)


def _checked(cutout: Cutout) -> Cutout:
    cov = cutout.coverage
    if cov < 0.002:
        raise CutoutError("No product was found in the photo: the mask is empty.", "empty_mask")
    if cov > 0.98:
        raise CutoutError("The product could not be separated from the background.", "mask_covers_photo")
    return cutout


def _border_samples(lab: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = lab.shape[:2]
    border = np.zeros((h, w), bool)
    border[:width, :] = border[-width:, :] = True
    border[:, :width] = border[:, -width:] = True
    ys, xs = np.nonzero(border)
    return np.stack([xs / w, ys / h], axis=1), lab[ys, xs]


def _design(xy: np.ndarray) -> np.ndarray:
    x, y = xy[:, 0], xy[:, 1]
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


def segment_plain_background(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    small = cv2.GaussianBlur(small, (3, 3), 0)
    sh, sw = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)

    # Fit a smooth background model (quadratic in x, y per Lab channel) to the border, robustly.
    xy, samples = _border_samples(lab, max(4, min(sh, sw) // 40))
    design = _design(xy)
    keep = np.ones(len(samples), bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(design[keep], samples[keep], rcond=None)
        resid = np.linalg.norm(samples - design @ coef, axis=1)
        keep = resid < max(4.0, 3.0 * np.median(resid[keep]) + 1.0)
    ys, xs = np.mgrid[0:sh, 0:sw]
    model = (_design(np.stack([xs.ravel() / sw, ys.ravel() / sh], axis=1)) @ coef).reshape(sh, sw, 3)
    noise = float(np.percentile(resid[keep], 95)) if keep.any() else 2.0

    diff = lab - model
    chroma = np.linalg.norm(diff[..., 1:], axis=2)
    dl = diff[..., 0]
    # Shadows: darker than the backdrop with (almost) its chromaticity → background.
    shadow = (dl < 0) & (chroma < 6.0 + noise)
    distance = np.sqrt(chroma**2 + np.maximum(dl, 0) ** 2 + np.where(shadow, 0, dl) ** 2)
    threshold = max(10.0, 2.5 * noise)
    fg = distance > threshold

    fg = _clean(fg)
    if fg.sum() < 0.002 * fg.size:
        return np.zeros((h, w), np.uint8)
    fg = _grabcut(small, fg, definite=distance > 3 * threshold, shadow=shadow)
    mask = (fg * 255).astype(np.uint8)
    if scale < 1:
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    return _binary(mask)


def _clean(fg: np.ndarray) -> np.ndarray:
    fg = fg.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, kernel, iterations=2)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count <= 1:
        return fg.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.nonzero(areas >= max(0.02 * areas.max(), 64))[0]
    fg = np.isin(labels, keep)
    return _fill_holes(fg)


def _fill_holes(fg: np.ndarray) -> np.ndarray:
    inv = (~fg).astype(np.uint8)
    _, labels, _, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    border_labels = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    holes = ~np.isin(labels, list(border_labels)) & (inv > 0)
    return fg | holes


def _grabcut(rgb: np.ndarray, fg: np.ndarray, definite: np.ndarray, shadow: np.ndarray) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    sure_fg = cv2.erode(fg.astype(np.uint8), kernel, iterations=2).astype(bool) & definite
    maybe = cv2.dilate(fg.astype(np.uint8), kernel, iterations=2).astype(bool)
    gc = np.full(fg.shape, cv2.GC_BGD, np.uint8)
    gc[maybe] = cv2.GC_PR_BGD
    gc[fg] = cv2.GC_PR_FGD
    gc[sure_fg] = cv2.GC_FGD
    gc[shadow & ~fg] = cv2.GC_BGD
    if not (gc == cv2.GC_FGD).any() or not (gc == cv2.GC_BGD).any():
        return fg
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), gc, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return fg
    out = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    return _clean(out)
