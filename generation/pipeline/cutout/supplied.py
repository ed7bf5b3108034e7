"""A mask the merchant supplied (a file, or the brush editor's result): it wins over every automatic method."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO

import cv2
import numpy as np
from django.utils.translation import gettext
from PIL import ImageOps

from ..ingest import IngestError, open_image, read_bytes, to_srgb8
from .base import CutoutError, binary


def load_mask(source: str | Path | bytes | IO[bytes]) -> np.ndarray:
    """A merchant-supplied mask file (white or opaque = product), EXIF-rotated like the photo; uint8 0/255."""
    try:
        img = open_image(read_bytes(source), min_side=1)
    except IngestError as exc:
        raise CutoutError(
            gettext("The mask is not an image we can read: %(reason)s") % {"reason": exc.message}, "bad_mask"
        ) from exc
    with contextlib.suppress(SyntaxError, ValueError, TypeError, OSError):  # broken EXIF: use the mask as stored
        img = ImageOps.exif_transpose(img) or img
    rgb, alpha, _ = to_srgb8(img)
    if alpha is not None:
        return binary(alpha)
    return binary(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def fit_supplied(mask: np.ndarray, width: int, height: int, photo_alpha: np.ndarray | None = None) -> np.ndarray:
    """The supplied mask at the photo's size, 0/255; within a PNG's visible pixels only."""
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask[..., -1] if mask.shape[2] in (2, 4) else mask.max(axis=2)
    if mask.dtype == bool:
        mask = mask.astype(np.uint8) * 255
    elif mask.dtype != np.uint8:
        peak = float(mask.max()) if mask.size else 1.0
        mask = (mask.astype(np.float32) * (255.0 / (peak if peak > 1 else 1.0))).clip(0, 255).astype(np.uint8)
    mh, mw = mask.shape[:2]
    if (mh, mw) != (height, width):
        # A scaled copy of the right mask is fine; another shape means it belongs to another photo (or orientation).
        if mh < 2 or mw < 2 or abs(mw / mh - width / height) > 0.01 * (width / height):
            raise CutoutError(
                gettext("The mask is %(mw)d×%(mh)d px but the photo is %(w)d×%(h)d px.")
                % {"mw": mw, "mh": mh, "w": width, "h": height},
                "mask_size_mismatch",
            )
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
    mask = binary(mask)
    if photo_alpha is not None:
        # Fully transparent pixels have no colour (a PNG stores black or anything there): a brush stroke over them
        # would paste that into every frame as "product". The merchant's mask decides within the visible pixels.
        mask = np.where(photo_alpha > 0, mask, 0).astype(np.uint8)
    return mask
