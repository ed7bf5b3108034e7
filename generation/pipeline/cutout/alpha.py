"""A PNG's own transparency as the cutout."""

from __future__ import annotations

import numpy as np

from .base import MAX_COVERAGE, binary


def from_alpha(alpha: np.ndarray) -> np.ndarray | None:
    """The alpha channel as a 0/255 mask, or None when it hides (almost) nothing and so is not a cutout."""
    mask = binary(alpha)
    return mask if (mask > 0).mean() <= MAX_COVERAGE else None


def alpha_matte(alpha: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The PNG's own soft edge as the matte: exactly 1 on the mask (its pixels stay exact), the alpha outside it."""
    return np.where(mask > 0, 1.0, alpha.astype(np.float32) / 255.0).astype(np.float32)
