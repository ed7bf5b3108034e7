"""Stage 8: quality checks, measured on the decoded MP4.

- masked PSNR and SSIM of the product region against the photo warped by each frame's placement (the region is
  the product's mask warped nearest-neighbour, eroded by 2 px so that the feathered silhouette is not counted);
  PSNR over the region's pixels and channels together, capped at 99 dB,
- edge IoU: Canny edges of the product in the frame against those of the warped original,
- flicker: mean absolute difference of consecutive frames outside the product, in 8-bit units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .encode import decode_mp4
from .fidelity import warp_box_exact

PSNR_CAP = 99.0
ERODE_PX = 2


@dataclass
class QAReport:
    psnr_min: float
    psnr_mean: float
    ssim_min: float
    flicker: float
    edge_iou: float
    frames: int
    psnr_per_frame: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        """The `qa` object of the output contract (plus edge_iou)."""
        d = asdict(self)
        return {k: round(d[k], 4) for k in ("psnr_min", "psnr_mean", "ssim_min", "flicker", "edge_iou")}

    def passes(self, min_psnr: float, min_ssim: float) -> bool:
        return self.psnr_min >= min_psnr and self.ssim_min >= min_ssim


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)) if a.size else 0.0
    if mse <= 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * np.log10(255.0**2 / mse))


def product_region(mask: np.ndarray, placement: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """The product's pixels in the frame: the mask warped nearest-neighbour, eroded by ERODE_PX (full frame)."""
    width, height = frame_size
    warped = cv2.warpAffine((mask > 0).astype(np.uint8) * 255, placement, (width, height), flags=cv2.INTER_NEAREST)
    return cv2.erode(warped, _KERNEL) > 0


_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ERODE_PX + 1, 2 * ERODE_PX + 1))
_SSIM_WIN = 7  # scikit-image's default window: 7×7 uniform, sample covariance
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM per pixel of two greyscale images, as skimage.metrics.structural_similarity computes it by default
    (7×7 uniform window, sample covariance, data range 255) — with OpenCV's box filter, ~10× faster. In float32:
    half the time of float64, and the mean over a product within ~1e-6 of it (4 decimals are reported)."""
    x, y = a.astype(np.float32), b.astype(np.float32)
    k = (_SSIM_WIN, _SSIM_WIN)
    mean = lambda img: cv2.boxFilter(img, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    n = _SSIM_WIN * _SSIM_WIN
    cov = n / (n - 1.0)
    ux, uy = mean(x), mean(y)
    vx = cov * (mean(x * x) - ux * ux)
    vy = cov * (mean(y * y) - uy * uy)
    vxy = cov * (mean(x * y) - ux * uy)
    return ((2 * ux * uy + _C1) * (2 * vxy + _C2)) / ((ux * ux + uy * uy + _C1) * (vx + vy + _C2))


# Canny keeps a weak edge only where it connects to a strong one (hysteresis), so a faint edge of the product
# (a 20-level step) can be in one image and not the other from a level or two of codec noise: measured, a plain
# bag exact to 49 dB scored IoU 0.0 from 11 such pixels. An edge of one image therefore counts as matched where the
# other has an edge within a pixel at half the thresholds; a new or lost edge of real strength still misses.
_CANNY = (60, 140)
_CANNY_LOOSE = (30, 70)


def _edges(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canny edges at _CANNY and at _CANNY_LOOSE from one pair of gradients: bit for bit what cv2.Canny(grey, …)
    gives (its 3×3 Sobel, border replicated), for a third of the time of two full calls."""
    dx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    dy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    return cv2.Canny(dx, dy, *_CANNY), cv2.Canny(dx, dy, *_CANNY_LOOSE)


def _edge_iou(got: np.ndarray, want: np.ndarray, region: np.ndarray) -> float:
    """Canny edges of the product in the frame against those of the warped original, matching within one pixel
    (and half the thresholds, see above); a product without edges (a plain surface) scores 1."""
    (strict_got, loose_got), (strict_want, loose_want) = _edges(got), _edges(want)
    e_got = (strict_got > 0) & region
    e_want = (strict_want > 0) & region
    total = int(e_got.sum() + e_want.sum())
    if not total:
        return 1.0
    k = np.ones((3, 3), np.uint8)
    near_got = cv2.dilate(loose_got, k) > 0
    near_want = cv2.dilate(loose_want, k) > 0
    hit = (e_got & near_want).sum() + (e_want & near_got).sum()
    return float(min(1.0, hit / total))


def _box(region: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    points = cv2.findNonZero(region.view(np.uint8))
    if points is None:
        return None
    x, y, w, h = cv2.boundingRect(points)
    height, width = region.shape
    return max(0, x - pad), max(0, y - pad), min(width, x + w + pad), min(height, y + h + pad)


def measure_frames(video: np.ndarray, photo_rgb: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> QAReport:
    """QA of decoded frames (N, H, W, 3) against the photo warped by each frame's placement.

    The reference is a plain full-frame cv2.warpAffine (INTER_LINEAR), as an outside checker would do it (computed
    only as far as the product's box, bit for bit the same); all other work (SSIM, edges) runs in that box only.
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
            # cv2.warpAffine(photo, m, frame, INTER_LINEAR, BORDER_REPLICATE)[box], bit for bit, warped only as
            # far as the box reaches.
            expected = warp_box_exact(photo_rgb, m, box, (width, height))
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


def measure_video(path: Path, photo_rgb: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> QAReport:
    return measure_frames(decode_mp4(path), photo_rgb, mask, placements)
