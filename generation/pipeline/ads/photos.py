"""The ad's photos, read and cut out one by one exactly as a single shot's photo is (ingest, then the cutout)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from .. import cutout, ingest


@dataclass
class AdPhoto:
    rgb: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) uint8 0/255
    matte: np.ndarray | None  # the cutout's soft edge, when it has one
    checksum: str  # SHA-256 of the photo's bytes
    cutout: dict  # method, confidence, needs_review

    @property
    def needs_review(self) -> bool:
        return bool(self.cutout["needs_review"])


def prepare_photo(
    source: str | Path | bytes | IO[bytes], supplied_mask: np.ndarray | None = None, *, mask_needs_review=False
) -> AdPhoto:
    """Ingest one photo and cut its product out (the supplied mask wins). Raises PipelineError for bad input."""
    photo = ingest.ingest_photo(source)
    cut = cutout.compute_cutout(photo, supplied_mask)
    info = {"method": cut.method, "confidence": cut.confidence, "needs_review": cut.needs_review or mask_needs_review}
    return AdPhoto(photo.rgb, cut.mask, cut.matte, photo.checksum, info)


def prepare_photos(sources: list, masks: list[np.ndarray | None] | None = None) -> list[AdPhoto]:
    masks = masks if masks is not None else [None] * len(sources)
    if len(masks) != len(sources):
        raise cutout.CutoutError(f"{len(masks)} masks for {len(sources)} photos: give one per photo", "bad_mask")
    return [prepare_photo(s, m) for s, m in zip(sources, masks, strict=True)]
