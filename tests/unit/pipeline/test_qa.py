"""QA: real measurements that catch a product that is not the merchant's, flicker, and a fast SSIM that equals
scikit-image's."""

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from generation.pipeline import qa
from generation.pipeline.fidelity import lock_frames


def _setup(n=4):
    rng = np.random.default_rng(1)
    photo = cv2.GaussianBlur(rng.integers(0, 256, (400, 300, 3), np.uint8), (0, 0), 1.5)
    mask = np.zeros((400, 300), np.uint8)
    cv2.rectangle(mask, (60, 50), (240, 350), 255, -1)
    placements = np.stack([np.array([[0.8, 0.02, 60.0 + 2 * i], [-0.02, 0.8, 40.0]]) for i in range(n)])
    frames = np.full((n, 416, 320, 3), 120, np.uint8)
    return photo, mask, placements, frames


def test_ssim_map_equals_scikit_image():
    rng = np.random.default_rng(0)
    a = cv2.GaussianBlur(rng.integers(0, 256, (90, 70), np.uint8), (0, 0), 1.0)
    b = np.clip(a.astype(int) + rng.integers(-20, 20, a.shape), 0, 255).astype(np.uint8)
    _, want = structural_similarity(a, b, data_range=255, full=True)
    assert np.allclose(qa.ssim_map(a, b), want, atol=1e-6)


def test_locked_product_measures_perfect():
    photo, mask, placements, frames = _setup()
    lock_frames(frames, photo, mask, placements)
    report = qa.measure_frames(frames, photo, mask, placements)
    # SSIM windows and edges at the region's rim also see the scene around the product: near 1, not 1.
    assert report.psnr_min == qa.PSNR_CAP and report.ssim_min > 0.99
    assert report.edge_iou > 0.98 and report.flicker == 0.0
    assert report.passes(38.0, 0.95)


def test_colour_shifted_product_fails():
    photo, mask, placements, frames = _setup()
    shifted = np.clip(photo.astype(int) + np.array([25, -10, 0]), 0, 255).astype(np.uint8)
    lock_frames(frames, shifted, mask, placements)
    report = qa.measure_frames(frames, photo, mask, placements)
    assert report.psnr_min < 30 and not report.passes(38.0, 0.95)
    assert len(report.psnr_per_frame) == len(frames)


def test_flicker_is_mean_abs_difference_outside_the_product():
    photo, mask, placements, frames = _setup()
    frames[1::2] += 3  # the background alternates by 3 levels every frame
    lock_frames(frames, photo, mask, placements)
    report = qa.measure_frames(frames, photo, mask, placements)
    assert report.flicker == pytest.approx(3.0, abs=1e-9)
    assert report.psnr_min == qa.PSNR_CAP  # the product itself did not move off its pixels


def test_psnr_is_capped():
    a = np.zeros((10, 3), np.uint8)
    assert qa.psnr(a, a) == qa.PSNR_CAP and qa.psnr(a, a + 1) == pytest.approx(48.13, abs=0.01)
