"""Boundary matting: a soft alpha along the silhouette only; the product's inside stays pixel-exact."""

from __future__ import annotations

import cv2
import numpy as np

from generation.pipeline.cutout import compute_cutout
from generation.pipeline.cutout.matting import BAND, boundary_matte
from generation.pipeline.fidelity import FidelityLock
from generation.pipeline.ingest import ingest_photo
from tests import incontext

SUPERSAMPLE = 8


def antialiased_disc(size: int = 600, radius: float = 170.3):
    """A red disc on a pale backdrop as a camera sees it (each pixel the area-average of its coverage), and the
    disc's true coverage of each pixel."""
    big = size * SUPERSAMPLE
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32) + 0.5
    inside = ((xx - big / 2) ** 2 + (yy - big / 2) ** 2 < (radius * SUPERSAMPLE) ** 2).astype(np.float32)
    coverage = cv2.resize(inside, (size, size), interpolation=cv2.INTER_AREA)
    product, backdrop = np.array([200, 40, 50], np.float32), np.array([240, 238, 235], np.float32)
    rgb = coverage[..., None] * product + (1 - coverage[..., None]) * backdrop
    return np.rint(rgb).astype(np.uint8), coverage


def test_the_matte_follows_the_photographed_edge_better_than_the_mask():
    rgb, coverage = antialiased_disc()
    result = compute_cutout(ingest_photo(incontext.jpeg(rgb, 98)))
    assert result.matte is not None and result.matte.dtype == np.float32
    edge = (coverage > 0.02) & (coverage < 0.98)
    binary_error = np.abs((result.mask[edge] > 0) - coverage[edge]).mean()
    matte_error = np.abs(result.matte[edge] - coverage[edge]).mean()
    outer_edge = edge & (result.mask == 0)  # the partly covered pixels the binary mask drops
    assert ((result.matte[outer_edge] > 0.05) & (result.matte[outer_edge] < 0.95)).mean() > 0.8
    assert matte_error < 0.75 * binary_error, (matte_error, binary_error)


def test_the_matte_is_exact_on_the_mask_and_zero_beyond_its_band():
    rgb, _ = antialiased_disc()
    mask = compute_cutout(ingest_photo(incontext.jpeg(rgb, 98))).mask
    matte = boundary_matte(rgb, mask)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND + 1, 2 * BAND + 1))
    assert (matte[mask > 0] == 1.0).all()
    assert (matte[cv2.dilate(mask, kernel) == 0] == 0.0).all()


def test_an_upscaled_product_has_a_soft_edge_and_exact_inside():
    rgb, _ = antialiased_disc()
    cut = compute_cutout(ingest_photo(incontext.jpeg(rgb, 98)))
    photo = ingest_photo(incontext.jpeg(rgb, 98)).rgb
    placement = np.array([[3.0, 0.0, -600.0], [0.0, 3.0, -600.0]])  # 3× up: the disc's edge spans the frame
    frame = np.full((720, 720, 3), 30, np.uint8)
    layer = FidelityLock(photo, cut.mask, (720, 720), cut.matte).apply(frame, placement)
    alpha = np.zeros((720, 720), np.float32)
    x0, y0, x1, y1 = layer.box
    alpha[y0:y1, x0:x1] = layer.alpha
    want = cv2.warpAffine(photo, placement, (720, 720), flags=cv2.INTER_LINEAR)
    region = cv2.warpAffine(cut.mask, placement, (720, 720), flags=cv2.INTER_NEAREST)
    inside = cv2.erode(region, np.ones((5, 5), np.uint8)) > 0  # QA's region: the mask eroded by 2 px
    assert np.array_equal(frame[inside], want[inside])
    # Outside the mask, the edge ramps down over the matte's band (3 × 2 px here), not in one step.
    outside_ramp = (alpha > 0.02) & (alpha < 0.98) & (region == 0)
    ring = (cv2.dilate(region, np.ones((5, 5), np.uint8)) > 0) & (region == 0)
    assert outside_ramp.sum() > 0.8 * ring.sum()
