"""Smooth noise with numpy and OpenCV: value noise upsampled by bicubic interpolation, summed into fBm.

Value noise on a coarse random grid, enlarged with cv2.resize, costs one resize per octave, so a full canvas of
fBm is a few milliseconds; that is what makes painting every background once per video cheap.
"""

from __future__ import annotations

import cv2
import numpy as np


def value_noise(rng: np.random.Generator, size: tuple[int, int], cells: tuple[float, float]) -> np.ndarray:
    """Noise in [-1, 1] of `size` (width, height) with about `cells` (across, down) random values, bicubic between."""
    width, height = size
    gx, gy = max(2, round(cells[0])) + 3, max(2, round(cells[1])) + 3
    grid = rng.random((gy, gx), dtype=np.float32) * 2.0 - 1.0
    # Enlarge a slightly bigger grid and crop, so that the border cells (which bicubic clamps) stay out of sight.
    big_w = round(width * gx / (gx - 2))
    big_h = round(height * gy / (gy - 2))
    big = cv2.resize(grid, (big_w, big_h), interpolation=cv2.INTER_CUBIC)
    x0, y0 = (big_w - width) // 2, (big_h - height) // 2
    return np.ascontiguousarray(big[y0 : y0 + height, x0 : x0 + width])


def fbm(
    rng: np.random.Generator,
    size: tuple[int, int],
    cells: tuple[float, float],
    octaves: int = 5,
    gain: float = 0.5,
    turbulence: bool = False,
) -> np.ndarray:
    """Fractal sum of value noise; `turbulence` sums absolute values (sharp creases, as in marble). About [-1, 1]."""
    width, height = size
    total = np.zeros((height, width), np.float32)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        scale = 2.0**octave
        layer = value_noise(rng, size, (cells[0] * scale, cells[1] * scale))
        if turbulence:
            layer = np.abs(layer) * 2.0 - 1.0
        total += amplitude * layer
        norm += amplitude
        amplitude *= gain
        # Octaves finer than ~3 px would only alias when the canvas moves (shimmer), so stop there.
        if width / (cells[0] * scale * 2) < 3 or height / (cells[1] * scale * 2) < 3:
            break
    return total / norm


def soft_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur that stays cheap for large sigmas (depth of field): blur a reduced copy, enlarge it back."""
    if sigma <= 0.3:
        return image
    if sigma <= 6:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    factor = sigma / 3.0
    small = cv2.resize(
        image, (max(2, round(width / factor)), max(2, round(height / factor))), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), 3.0 * (1 - 0.5 / factor) if factor > 1 else 3.0)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    span = edge1 - edge0
    t = np.clip((x - edge0) / (span if abs(span) > 1e-6 else 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
