"""Stage 8: quality checks, measured on the decoded MP4.

- masked PSNR and SSIM of the product region against the photo warped by each frame's placement (the region is
  the product's warped mask, eroded by 2 px so that the feathered silhouette is not counted),
- edge IoU: Canny edges of the product in the frame against those of the warped original,
- flicker: mean absolute difference of consecutive frames outside the product, in 8-bit units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from .encode import decode_mp4

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
    width, height = frame_size
    warped = cv2.warpAffine((mask > 0).astype(np.uint8) * 255, placement, (width, height), flags=cv2.INTER_NEAREST)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ERODE_PX + 1, 2 * ERODE_PX + 1))
    return cv2.erode(warped, kernel) > 0


def measure_frames(video: np.ndarray, photo_rgb: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> QAReport:
    n, height, width = video.shape[:3]
    if n != len(placements):
        raise ValueError(f"video has {n} frames but there are {len(placements)} placements")
    psnrs, ssims, ious, flickers = [], [], [], []
    previous_bg = None
    for i in range(n):
        frame = video[i]
        expected = cv2.warpAffine(
            photo_rgb, placements[i], (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        region = product_region(mask, placements[i], (width, height))
        if not region.any():
            psnrs.append(PSNR_CAP)
            ssims.append(1.0)
            ious.append(1.0)
        else:
            psnrs.append(psnr(frame[region], expected[region]))
            ys, xs = np.nonzero(region)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            got = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
            want = cv2.cvtColor(expected[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
            sub_region = region[y0:y1, x0:x1]
            if min(got.shape) >= 7:
                _, ssim_map = structural_similarity(got, want, data_range=255, full=True)
                ssims.append(float(ssim_map[sub_region].mean()))
            else:
                ssims.append(1.0)
            e_got = cv2.Canny(got, 60, 140) > 0
            e_want = cv2.Canny(want, 60, 140) > 0
            # Edges count as matching within one pixel; compared inside the product only.
            e_got &= sub_region
            e_want &= sub_region
            k = np.ones((3, 3), np.uint8)
            union = np.logical_or(e_got, e_want).sum()
            if union:
                hit = (e_got & (cv2.dilate(e_want.astype(np.uint8), k) > 0)).sum() + (
                    e_want & (cv2.dilate(e_got.astype(np.uint8), k) > 0)
                ).sum()
                ious.append(float(min(1.0, hit / (e_got.sum() + e_want.sum()))))
            else:
                ious.append(1.0)
        # Flicker outside the product (and outside its silhouette band), frame to frame.
        outside = ~cv2.dilate(region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        grey = frame.astype(np.int16)
        if previous_bg is not None:
            both = outside & previous_bg[1]
            if both.any():
                flickers.append(float(np.abs(grey[both] - previous_bg[0][both]).mean()))
        previous_bg = (grey, outside)
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
