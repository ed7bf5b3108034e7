"""The ad's encode and QA as they were before they were made faster, kept so that `ad_bench.py --compare` can time
the old and new paths alternately in one run and check that QA reports the same values. Not used by the product.

- QA: the reference photo warped into the full frame, four Canny passes per frame (each computing its own
  gradients), SSIM in float64;
- encode: x264 preset fast with PyAV's default slice threads.
"""

from __future__ import annotations

import contextlib
import functools

import cv2
import numpy as np

from generation.pipeline import encode, qa
from generation.pipeline.qa import _C1, _C2, _CANNY, _CANNY_LOOSE, _KERNEL, _SSIM_WIN, PSNR_CAP, QAReport, _box, psnr

ENCODE = {"preset": "fast", "x264_params": "aq-mode=0:psy-rd=0,0:chroma-qp-offset=-4", "thread_type": "SLICE"}


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM per pixel of two greyscale images, as skimage.metrics.structural_similarity computes it by default
    (7×7 uniform window, sample covariance, data range 255) — with OpenCV's box filter, ~10× faster."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    k = (_SSIM_WIN, _SSIM_WIN)
    mean = lambda img: cv2.boxFilter(img, cv2.CV_64F, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    n = _SSIM_WIN * _SSIM_WIN
    cov = n / (n - 1.0)
    ux, uy = mean(x), mean(y)
    vx = cov * (mean(x * x) - ux * ux)
    vy = cov * (mean(y * y) - uy * uy)
    vxy = cov * (mean(x * y) - ux * uy)
    return ((2 * ux * uy + _C1) * (2 * vxy + _C2)) / ((ux * ux + uy * uy + _C1) * (vx + vy + _C2))


def _edge_iou(got: np.ndarray, want: np.ndarray, region: np.ndarray) -> float:
    """Canny edges of the product in the frame against those of the warped original, matching within one pixel
    (and half the thresholds, see above); a product without edges (a plain surface) scores 1."""
    e_got = (cv2.Canny(got, *_CANNY) > 0) & region
    e_want = (cv2.Canny(want, *_CANNY) > 0) & region
    total = int(e_got.sum() + e_want.sum())
    if not total:
        return 1.0
    k = np.ones((3, 3), np.uint8)
    near_got = cv2.dilate(cv2.Canny(got, *_CANNY_LOOSE), k) > 0
    near_want = cv2.dilate(cv2.Canny(want, *_CANNY_LOOSE), k) > 0
    hit = (e_got & near_want).sum() + (e_want & near_got).sum()
    return float(min(1.0, hit / total))


def measure_frames(video: np.ndarray, photo_rgb: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> QAReport:
    """QA of decoded frames (N, H, W, 3) against the photo warped by each frame's placement.

    The reference is a plain full-frame cv2.warpAffine (INTER_LINEAR), as an outside checker would do it; all
    other work (SSIM, edges) runs in the product's box only.
    """
    n, height, width = video.shape[:3]
    if n != len(placements):
        raise ValueError(f"video has {n} frames but there are {len(placements)} placements")
    mask_u8 = (mask > 0).astype(np.uint8) * 255
    psnrs, ssims, ious, flickers = [], [], [], []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    dilate = np.ones((9, 9), np.uint8)
    for i in range(n):
        frame = video[i]
        m = np.asarray(placements[i], np.float64)
        warped = cv2.warpAffine(mask_u8, m, (width, height), flags=cv2.INTER_NEAREST)
        region = cv2.erode(warped, _KERNEL)
        box = _box(region, 4)
        if box is None:
            psnrs.append(PSNR_CAP)
            ssims.append(1.0)
            ious.append(1.0)
        else:
            x0, y0, x1, y1 = box
            expected = cv2.warpAffine(
                photo_rgb, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )[y0:y1, x0:x1]
            got_rgb = frame[y0:y1, x0:x1]
            sub = region[y0:y1, x0:x1] > 0
            psnrs.append(psnr(got_rgb[sub], expected[sub]))
            got = cv2.cvtColor(got_rgb, cv2.COLOR_RGB2GRAY)
            want = cv2.cvtColor(expected, cv2.COLOR_RGB2GRAY)
            # SSIM windows and Canny's gradients at the rim would otherwise see the feathered silhouette and the
            # scene in one image, the photo's backdrop in the other: both show the frame's own pixels outside the
            # measured region, so only the product is judged.
            want[~sub] = got[~sub]
            ssims.append(float(ssim_map(got, want)[sub].mean()) if min(got.shape) >= _SSIM_WIN else 1.0)
            ious.append(_edge_iou(got, want, sub))
        # Flicker outside the product (and its silhouette band), frame to frame, in 8-bit units.
        outside = cv2.dilate(warped, dilate) == 0
        if previous is not None:
            both = (outside & previous[1]).view(np.uint8)
            if both.any():
                diff = cv2.absdiff(frame, previous[0])
                flickers.append(float(np.mean(cv2.mean(diff, mask=both)[:3])))
        previous = (frame, outside)
    return QAReport(
        psnr_min=float(min(psnrs)),
        psnr_mean=float(np.mean(psnrs)),
        ssim_min=float(min(ssims)),
        flicker=float(np.mean(flickers)) if flickers else 0.0,
        edge_iou=float(min(ious)),
        frames=n,
        psnr_per_frame=[round(p, 3) for p in psnrs],
    )


@contextlib.contextmanager
def before():
    """Within it, `render.render_ad` encodes and measures as it did before."""
    saved = encode.encode_mp4, qa.measure_frames
    encode.encode_mp4 = functools.partial(saved[0], **ENCODE)
    qa.measure_frames = measure_frames
    try:
        yield
    finally:
        encode.encode_mp4, qa.measure_frames = saved
