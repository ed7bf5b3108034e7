"""Stage 2: the product mask, by the first method that applies.

1. a mask the merchant supplied (a file or the brush editor);
2. a PNG's own transparency;
3. guided: the merchant's box and keep / remove strokes (GrabCut), when a guide is given;
4. learned: the operator's salient-object model, when ``SHOPVIDEO_CUTOUT_MODEL`` is set (a missing or broken file
   is an error, never a silent fallback to 5);
5. classical segmentation of a plain studio backdrop (refuses busy backgrounds: ``background_not_plain``).

Each result says which method made it, how sure it is, and whether a person must check it (``needs_review``); every
mask comes with a soft boundary matte for the edge.
"""

from __future__ import annotations

import numpy as np

from ..ingest import IngestedPhoto
from . import confidence
from .alpha import alpha_matte, from_alpha
from .base import (
    MAX_COVERAGE,
    MIN_COVERAGE,
    Cutout,
    CutoutError,
    CutoutGuide,
    CutoutModelUnavailable,
    checked,
)
from .classical import segment_plain_background, segment_with_confidence
from .guided import guided_cutout
from .learned import configured_model_path, learned_cutout, load_model
from .matting import boundary_matte
from .supplied import fit_supplied, load_mask

__all__ = [
    "MAX_COVERAGE",
    "MIN_COVERAGE",
    "Cutout",
    "CutoutError",
    "CutoutGuide",
    "CutoutModelUnavailable",
    "compute_cutout",
    "configured_model_path",
    "load_mask",
    "load_model",
    "segment_plain_background",
]

THRESHOLDS = {
    "guided": confidence.GUIDED_THRESHOLD,
    "learned": confidence.LEARNED_THRESHOLD,
    "segmented": confidence.CLASSICAL_THRESHOLD,
}


def compute_cutout(
    photo: IngestedPhoto, supplied_mask: np.ndarray | None = None, *, guide: CutoutGuide | None = None
) -> Cutout:
    """The product's cutout by the first method that applies (see the module's docstring)."""
    if supplied_mask is not None:
        mask = fit_supplied(supplied_mask, photo.width, photo.height, photo.alpha)
        return _finish(photo, mask, "supplied", 1.0)
    if photo.alpha is not None:
        mask = from_alpha(photo.alpha)
        if mask is not None:
            return checked(Cutout(mask, "alpha", 1.0, False, alpha_matte(photo.alpha, mask)))
    if guide is not None:
        mask, sure = guided_cutout(photo.rgb, guide.validated(photo.width, photo.height))
        return _finish(photo, mask, "guided", sure)
    model_path = configured_model_path()
    if model_path:
        mask, sure = learned_cutout(photo.rgb, model_path)
        return _finish(photo, mask, "learned", sure)
    mask, sure = segment_with_confidence(photo.rgb)
    return _finish(photo, mask, "segmented", sure)


def _finish(photo: IngestedPhoto, mask: np.ndarray, method: str, sure: float) -> Cutout:
    threshold = THRESHOLDS.get(method, 0.0)
    cut = checked(Cutout(mask, method, round(float(sure), 3), bool(sure < threshold)))
    cut.matte = boundary_matte(photo.rgb, cut.mask)
    return cut
