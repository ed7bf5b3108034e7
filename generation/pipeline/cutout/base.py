"""What every cutout method shares: the result, the merchant's guide, the error and the coverage check."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext

from ..errors import BadInputError

MIN_COVERAGE = 0.002
MAX_COVERAGE = 0.98
MAX_GUIDE_POINTS = 5000  # all strokes together; a hand-drawn stroke sampled per pointer event stays far below


class CutoutError(BadInputError):
    code = "cutout_failed"


class CutoutModelUnavailable(CutoutError):
    """The configured learned model file is missing or cannot be loaded: an operator's problem, never retried."""

    code = "cutout_model_unavailable"


@dataclass
class Cutout:
    mask: np.ndarray  # (H, W) uint8, 0 or 255, at the photo's size
    method: str  # "supplied" | "alpha" | "guided" | "learned" | "segmented"
    confidence: float = 1.0  # 0..1: how sure the method is that the mask is the whole product and only it
    needs_review: bool = False  # confidence below the method's threshold: a person checks it before delivery
    matte: np.ndarray | None = field(default=None, repr=False)  # (H, W) float32 0..1, soft only along the edge

    @property
    def source(self) -> str:
        return self.method

    @property
    def coverage(self) -> float:
        return float((self.mask > 0).mean())


Polyline = list[tuple[float, float]]


@dataclass
class CutoutGuide:
    """The merchant's hints: a rough box around the product and optional keep / remove strokes.

    Coordinates are photo pixels after EXIF rotation; the box is (x0, y0, x1, y1), end exclusive.
    """

    box: tuple[int, int, int, int]
    keep: list[Polyline] = field(default_factory=list)
    remove: list[Polyline] = field(default_factory=list)
    stroke_radius: float | None = None  # None: a default from the photo's size

    def validated(self, width: int, height: int) -> CutoutGuide:
        """The guide clipped to the photo, or CutoutError with a stable code."""
        try:
            x0, y0, x1, y1 = (round(float(v)) for v in self.box)
        except (TypeError, ValueError) as exc:
            raise CutoutError(gettext("The box must be four numbers: x0, y0, x1, y1."), "cutout_box_invalid") from exc
        if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
            raise CutoutError(gettext("The box lies outside the photo."), "cutout_box_invalid")
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            raise CutoutError(gettext("The box is empty or too small to hold a product."), "cutout_box_invalid")
        if (x1 - x0) * (y1 - y0) > MAX_COVERAGE * width * height and not self.keep and not self.remove:
            raise CutoutError(
                gettext("The box covers the whole photo: draw it closely around the product."), "cutout_box_invalid"
            )
        strokes = [*self.keep, *self.remove]
        if sum(len(s) for s in strokes) > MAX_GUIDE_POINTS:
            raise CutoutError(
                gettext("The strokes have too many points (at most %(n)d).") % {"n": MAX_GUIDE_POINTS},
                "cutout_strokes_invalid",
            )
        keep, remove = [_points(s) for s in self.keep], [_points(s) for s in self.remove]
        radius = self.stroke_radius
        if radius is not None and not (0 < float(radius) <= max(width, height) / 4):
            raise CutoutError(gettext("The stroke width is out of range."), "cutout_strokes_invalid")
        return CutoutGuide((x0, y0, x1, y1), keep, remove, None if radius is None else float(radius))

    def radius_for(self, width: int, height: int) -> float:
        return self.stroke_radius if self.stroke_radius is not None else max(3.0, max(width, height) / 150)


def _points(stroke: Polyline) -> Polyline:
    try:
        points = [(float(x), float(y)) for x, y in stroke]
    except (TypeError, ValueError) as exc:
        raise CutoutError(gettext("A stroke must be a list of [x, y] points."), "cutout_strokes_invalid") from exc
    if not points or not all(np.isfinite(points).ravel()):
        raise CutoutError(gettext("A stroke must be a list of [x, y] points."), "cutout_strokes_invalid")
    return points


def binary(values: np.ndarray) -> np.ndarray:
    return np.where(values > 127, 255, 0).astype(np.uint8)


def checked(cutout: Cutout) -> Cutout:
    cov = cutout.coverage
    if cov < MIN_COVERAGE:
        raise CutoutError(gettext("No product was found in the photo: the mask is empty."), "empty_mask")
    if cov > MAX_COVERAGE:
        raise CutoutError(gettext("The product could not be separated from the background."), "mask_covers_photo")
    return cutout
