"""Classical automatic cutout for photos on a plain or smoothly graded studio backdrop:
1. On a working copy (longest side ``WORK_SIDE``), fit a smooth backdrop model (quadratic in x, y per channel) to
   the photo's border, robustly. When the border is not explained by such a model, the photo was not taken on a
   plain backdrop and we refuse (``background_not_plain``) rather than guess.
2. Every pixel is compared with the backdrop as ``P ≈ s·B + chroma``: a shadow only scales the backdrop (``s < 1``,
   no chroma), so pixels that differ in chroma, are brighter, or far darker than any soft shadow are sure product;
   pixels matching the backdrop are sure backdrop; the rest (shadows, grey products) are left open.
3. A marker-based watershed on the colour gradient settles the open pixels: a soft shadow has no edge, so the
   backdrop floods it; a product, even a pale one, is closed by its sharp silhouette.
4. Regions that sharp edges close off against the product (pale leaves on white: backdrop-like pixel by pixel,
   but with a silhouette of their own) join it, unless they are holes in the product or as dark as a shadow.
5. At full resolution, a narrow band around the silhouette is re-decided per pixel by projecting its colour between
   the local product and local backdrop colours, so the upsampled edge lands on the true edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from django.utils.translation import gettext
from skimage.segmentation import watershed

from . import confidence
from .base import MIN_COVERAGE, CutoutError

WORK_SIDE = 1024  # segmentation runs on a downscaled copy; the edge is then refined at full resolution
MIN_BACKDROP_INLIERS = 0.6  # share of the border that must fit the smooth backdrop model
BACKDROP_TOLERANCE = 14.0  # RGB distance (0..255 units) within which a border pixel counts as backdrop
MAX_SHADOW_DARKENING = 0.55  # a soft shadow keeps at least 45 % of the backdrop's brightness
SHARP_EDGE = 6.0  # grey levels per working pixel: a silhouette's edge is steeper, a soft shadow's is not
SHARP_SHARE = 0.3  # share of a region's border that must be sharp for it to count as a (pale) product
PALE_MIN_BRIGHTNESS = 0.88  # a region closed off by edges darker than this share of the backdrop is a shadow
REFINE_RADIUS = 2  # working pixels either side of the silhouette that are re-decided at full resolution


# ---------------------------------------------------------------------------------------------------------------
# Segmentation


def _design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


@dataclass
class Backdrop:
    model: np.ndarray  # (h, w, 3) float32 expected backdrop colour at working size
    inliers: float  # share of the border explained by the model
    noise_chroma: float  # 95th percentile of chroma residuals on the backdrop
    noise_light: float  # 95th percentile of brightness residuals on the backdrop


def fit_backdrop(small: np.ndarray) -> Backdrop:
    """Fit the smooth backdrop model to the border of the working image (robust to a product touching it)."""
    sh, sw = small.shape[:2]
    band = max(3, min(sh, sw) // 40)
    border = np.zeros((sh, sw), bool)
    border[:band, :] = border[-band:, :] = True
    border[:, :band] = border[:, -band:] = True
    ys, xs = np.nonzero(border)
    samples = small[ys, xs].astype(np.float32)
    design = _design(xs / sw, ys / sh).astype(np.float32)
    keep = np.ones(len(samples), bool)
    coef = np.zeros((6, 3), np.float32)
    for _ in range(4):
        if keep.sum() < 12:
            break
        coef, *_ = np.linalg.lstsq(design[keep], samples[keep], rcond=None)
        resid = np.linalg.norm(samples - design @ coef, axis=1)
        keep = resid < max(BACKDROP_TOLERANCE / 2, min(BACKDROP_TOLERANCE, 3.0 * float(np.median(resid[keep])) + 2))
    resid = np.linalg.norm(samples - design @ coef, axis=1)
    inliers = resid < BACKDROP_TOLERANCE
    gy, gx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    model = (_design(gx / sw, gy / sh) @ coef).astype(np.float32)
    chroma, light = _compare(samples[inliers], (design @ coef)[inliers]) if inliers.any() else (resid, resid)
    return Backdrop(
        model=model,
        inliers=float(inliers.mean()),
        noise_chroma=float(np.percentile(chroma, 95)) if len(chroma) else 0.0,
        noise_light=float(np.percentile(np.abs(light), 95)) if len(light) else 0.0,
    )


def _compare(pixels: np.ndarray, model: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma residual after the best brightness scaling, and the brightness change in 0..255 units."""
    scale = (pixels * model).sum(-1) / np.maximum((model * model).sum(-1), 1.0)
    chroma = np.linalg.norm(pixels - scale[..., None] * model, axis=-1)
    light = (scale - 1.0) * model.mean(-1)
    return chroma, light


def segment_plain_background(rgb: np.ndarray) -> np.ndarray:
    return segment_with_confidence(rgb)[0]


def segment_with_confidence(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The product mask (0/255 at the photo's size) and how sure the segmentation is of it (0..1)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    backdrop = fit_backdrop(small)
    if backdrop.inliers < MIN_BACKDROP_INLIERS:
        raise CutoutError(
            gettext(
                "The photo's background is not plain enough to cut the product out automatically; draw a box "
                "around the product, or upload a photo on a plain background, a PNG with transparency, or a mask."
            ),
            "background_not_plain",
        )
    # Classify a lightly smoothed copy: sensor noise would otherwise leave backdrop pixels undecided.
    f = cv2.GaussianBlur(small, (0, 0), 1.0).astype(np.float32)
    chroma, light = _compare(f, backdrop.model)
    brightness = (f * backdrop.model).sum(-1) / np.maximum((backdrop.model**2).sum(-1), 1.0)
    t_chroma = max(4.0, 1.3 * backdrop.noise_chroma)
    t_light = max(4.0, 1.3 * backdrop.noise_light)
    sure_bg = (chroma < t_chroma) & (np.abs(light) < t_light)
    sure_fg = (
        (chroma > max(14.0, 3.0 * backdrop.noise_chroma))
        | (light > max(10.0, 3.0 * backdrop.noise_light))
        | (brightness < 1.0 - MAX_SHADOW_DARKENING)
    )
    elevation = edge_strength(small)
    # Below the backdrop's own noise an "edge" means nothing: flatten it, so that floods inside smooth regions are
    # not steered by noise and only real edges decide where product and backdrop meet.
    floor = float(np.percentile(elevation[sure_bg], 95)) if sure_bg.any() else 0.0
    elevation = np.maximum(elevation - floor, 0.0)
    fg = _flood(elevation, _markers(sure_bg, sure_fg))
    cores = _pale_product_cores(sure_bg, fg, small)
    if cores.any():
        fg = _flood(elevation, _markers(sure_bg, sure_fg, cores))
    fg = _keep_main_parts(fg)
    if not fg.any():
        return np.zeros((h, w), np.uint8), 0.0
    fg = _close_by_edges(fg, elevation, brightness)
    sure = confidence.classical(fg, elevation, backdrop.inliers)
    return refine_full_resolution(rgb, small, fg, scale), sure


def edge_strength(small: np.ndarray) -> np.ndarray:
    """How sharply the colour changes: the fine-scale gradient minus the coarse-scale one.

    A soft shadow is a smooth ramp, as steep at a coarse scale as at a fine one, so it scores near zero; a
    silhouette is a step, far steeper at the fine scale. Flooding on this (not on the plain gradient) keeps a
    pale product's faint edge a ridge while letting the backdrop pour over its shadow.
    """
    f = small.astype(np.float32)

    def gradient(sigma: float) -> np.ndarray:
        b = cv2.GaussianBlur(f, (0, 0), sigma)
        gx, gy = cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=3)
        return np.sqrt((gx * gx + gy * gy).sum(-1))

    return np.maximum(gradient(1.0) - gradient(4.0), 0.0)


def _flood(elevation: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """Marker watershed; returns the product pixels. Only the box around the undecided pixels is flooded."""
    if not (markers == 2).any():
        return np.zeros(markers.shape, bool)
    open_ys, open_xs = np.nonzero(markers == 0)
    fg = markers == 2
    if len(open_ys) == 0:
        return fg
    h, w = markers.shape
    y0, y1 = max(0, open_ys.min() - 2), min(h, open_ys.max() + 3)
    x0, x1 = max(0, open_xs.min() - 2), min(w, open_xs.max() + 3)
    labels = watershed(elevation[y0:y1, x0:x1], markers[y0:y1, x0:x1])
    fg[y0:y1, x0:x1] = labels == 2
    return fg


def _markers(sure_bg: np.ndarray, sure_fg: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """Watershed markers: 1 = backdrop, 2 = product, 0 = to be decided by the flood."""
    kernel = np.ones((3, 3), np.uint8)
    # Drop specks (noise, JPEG ringing) by size, not by opening, which would erase thin printed lines.
    fg = _drop_specks(sure_fg.astype(np.uint8), 16)
    if extra is not None:
        fg |= extra
    bg = cv2.erode(sure_bg.astype(np.uint8), kernel)
    # Backdrop seen through a hole (a mug's handle) stays backdrop if it is big enough to be a real opening;
    # small backdrop-coloured patches inside a product are the product's own pale details.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bg, connectivity=4)
    if count > 1:
        touches = np.zeros(count, bool)
        touches[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
        big = stats[:, cv2.CC_STAT_AREA] >= max(64, 0.0015 * bg.size)
        bg = ((touches | big)[labels] & (labels > 0)).astype(np.uint8)
    markers = np.zeros(sure_bg.shape, np.int32)
    markers[bg > 0] = 1
    markers[fg > 0] = 2
    return markers


def _drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    return np.isin(labels, 1 + np.nonzero(areas >= max(min_area, 0.01 * areas.max()))[0]).astype(np.uint8)


def _pale_product_cores(sure_bg: np.ndarray, flooded: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Markers for products that differ from the backdrop only in brightness (white on white, plain grey).

    Such a product looks like a shadow pixel by pixel, and a thin print on it is walled in by its own edge, so the
    first flood leaves most of it to the backdrop. What sets it apart from a shadow is a sharp silhouette: a
    non-backdrop region that the first flood left mostly to the backdrop, but whose border to the backdrop is
    mostly sharp, gets its core (the part farthest from the backdrop) as a product marker. A soft shadow's
    border is never sharp, so shadows get none.
    """
    candidate = (~sure_bg).astype(np.uint8)
    out = np.zeros_like(candidate)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    if count <= 1:
        return out
    grey = cv2.cvtColor(cv2.GaussianBlur(image, (0, 0), 1.0), cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)) / 8
    rim = (cv2.dilate(sure_bg.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & (candidate > 0)
    dist = cv2.distanceTransform(candidate, cv2.DIST_L2, 5)
    covered = np.bincount(labels[flooded], minlength=count)
    min_area = max(64, MIN_COVERAGE * candidate.size)
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < min_area or covered[label] > 0.5 * stats[label, cv2.CC_STAT_AREA]:
            continue
        x, y, bw, bh = stats[label, :4]
        roi = labels[y : y + bh, x : x + bw] == label
        edge = rim[y : y + bh, x : x + bw] & roi
        if not edge.any() or (grad[y : y + bh, x : x + bw][edge] > SHARP_EDGE).mean() < SHARP_SHARE:
            continue
        d = dist[y : y + bh, x : x + bw] * roi
        out[y : y + bh, x : x + bw] |= (d > 0.35 * d.max()).astype(np.uint8)
    return out


def _close_by_edges(fg: np.ndarray, elevation: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """Add the regions that sharp edges close off against the product: pale parts (leaves on white) that look like
    backdrop pixel by pixel but have a silhouette of their own.

    A region walled in by sharp edges and the product, not reaching the photo's border, is product unless it is
    mostly walled by the product itself (backdrop seen through a handle) or darker than the backdrop as a shadow is
    (a hard shadow also has a sharp edge; pale products are as bright as the backdrop or nearly).
    """
    sharp = cv2.dilate((elevation > confidence.SHARP_ELEVATION).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    walls = sharp | fg
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~walls).astype(np.uint8), connectivity=4)
    if count <= 1:
        return fg
    h, w = fg.shape
    touches = np.zeros(count, bool)
    touches[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    added = np.zeros_like(fg)
    min_area = max(16, 0.0005 * h * w)
    for label in range(1, count):
        if touches[label] or stats[label, cv2.CC_STAT_AREA] < min_area:
            continue
        x, y, bw, bh = stats[label, :4]
        y0, y1, x0, x1 = max(0, y - 8), min(h, y + bh + 8), max(0, x - 8), min(w, x + bw + 8)
        region = labels[y0:y1, x0:x1] == label
        # what lies just beyond the region's own edge: product all round means a hole in the product
        beyond = (cv2.dilate(region.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0) & ~region
        beyond &= fg[y0:y1, x0:x1] | ~sharp[y0:y1, x0:x1]
        if not beyond.any() or fg[y0:y1, x0:x1][beyond].mean() > 0.6:
            continue
        if np.median(brightness[y0:y1, x0:x1][region]) < PALE_MIN_BRIGHTNESS:  # a shadow
            continue
        added[y0:y1, x0:x1] |= region
    if not added.any():
        return fg
    # the walls between the added regions and the product are the pale part's own outline
    return fg | added | (sharp & (cv2.dilate(added.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0))


def _keep_main_parts(fg: np.ndarray) -> np.ndarray:
    """Drop specks; keep every sizeable part (a pair of earrings is two parts)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if count <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    return np.isin(labels, 1 + np.nonzero(areas >= max(64, 0.02 * areas.max()))[0])


def _local_mean(image: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    wsum = cv2.GaussianBlur(weight, (0, 0), sigma)
    vsum = cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma)
    return vsum / np.maximum(wsum, 1e-3)[..., None], wsum


def refine_full_resolution(rgb: np.ndarray, small: np.ndarray, fg: np.ndarray, scale: float) -> np.ndarray:
    """Upsample the working mask and re-decide a narrow band around its edge from the full-resolution colours.

    Each band pixel is projected onto the line between the local product colour and the local backdrop colour
    (both averaged just inside and just outside the working edge, so a shadow next to the product counts as the
    local backdrop): alpha > 0.5 is product.
    """
    h, w = rgb.shape[:2]
    fg8 = fg.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * REFINE_RADIUS + 1, 2 * REFINE_RADIUS + 1))
    inner = cv2.erode(fg8, kernel).astype(np.float32)
    outer = 1.0 - cv2.dilate(fg8, kernel).astype(np.float32)
    f = small.astype(np.float32)
    sigma = 2.0 * REFINE_RADIUS
    fg_colour, fg_w = _local_mean(f, inner, sigma)
    bg_colour, bg_w = _local_mean(f, outer, sigma)
    band = (cv2.dilate(fg8, kernel) - cv2.erode(fg8, kernel)) > 0

    if scale < 1:
        mask = cv2.resize(fg8 * 255, (w, h), interpolation=cv2.INTER_LINEAR) > 127
        band_full = cv2.resize(band.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    else:
        mask, band_full = fg.copy(), band
    ys, xs = np.nonzero(band_full)
    if len(ys) == 0:
        return (mask * 255).astype(np.uint8)
    # full-resolution pixel centres in working-image coordinates, laid out as rows of 1024 (remap's size limit)
    n = len(ys)
    pad = -n % 1024
    mx = np.pad((xs.astype(np.float32) + 0.5) * (small.shape[1] / w) - 0.5, (0, pad)).reshape(-1, 1024)
    my = np.pad((ys.astype(np.float32) + 0.5) * (small.shape[0] / h) - 0.5, (0, pad)).reshape(-1, 1024)

    def sample(img: np.ndarray) -> np.ndarray:
        out = cv2.remap(img, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(n + pad, -1)[:n]

    fcol, bcol = sample(fg_colour), sample(bg_colour)
    fw, bw = sample(fg_w)[:, 0], sample(bg_w)[:, 0]
    pix = rgb[ys, xs].astype(np.float32)
    d = fcol - bcol
    dd = (d * d).sum(1)
    alpha = ((pix - bcol) * d).sum(1) / np.maximum(dd, 1e-3)
    decided = (dd > 12.0**2) & (fw > 0.05) & (bw > 0.05)
    mask[ys[decided], xs[decided]] = alpha[decided] > 0.5
    out = (mask * 255).astype(np.uint8)
    # per-pixel decisions leave single-pixel speckle where colours are close: a small median removes it
    return cv2.medianBlur(out, 3)
