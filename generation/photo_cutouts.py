"""A photo's cutout as the product sees it: the automatic one at upload (a refusal keeps the photo as needing a
cutout), what a job's video reports of it, and the merchant's own cut from a rough box around the product plus
optional keep / remove strokes (generation.pipeline.cutout's guided method), previewed on a small copy and saved
as the photo's mask.

Coordinates are photo pixels after EXIF rotation (the photo's stored width × height). Saving the box is the
merchant's check of the cutout: it clears `cutout_needs_review`, unless the guided cut is itself unsure of the
result (its confidence below the method's threshold); then the photo stays marked and its videos are held for
review, so a box that missed the product is never delivered as good.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image

from generation.models import Photo
from generation.pipeline import cutout, ingest

logger = logging.getLogger(__name__)

PHOTO_NEEDS_CUTOUT = "photo_needs_cutout"

# The live preview cuts a copy whose longer side is at most this: GrabCut's time grows with the pixels it sees
# (bench/cutout_preview.py: about 1 s per preview at 480 px on the shared CPU machine, 1.7 s at 640 px).
PREVIEW_SIDE = 480
# The preview's background: the photo shows through, dimmed and tinted, so the kept product stands out.
PREVIEW_TINT = (36, 81, 214, 150)

Stroke = Sequence[Sequence[float]]


def automatic_cutout(photo_in: ingest.IngestedPhoto, supplied: np.ndarray | None) -> cutout.Cutout | None:
    """The photo's cutout, or None when the automatic one was refused (a busy background, nothing found): the
    photo is then kept as needing a cutout rather than refusing the upload. A supplied mask that cannot be used
    and a configured model that cannot be loaded are still errors (the merchant's file, the operator's setup)."""
    try:
        return cutout.compute_cutout(photo_in, supplied)
    except cutout.CutoutModelUnavailable:
        raise
    except cutout.CutoutError as exc:
        if supplied is not None:
            raise
        logger.info("automatic cutout refused (%s): the photo waits for the merchant's box", exc.code)
        return None


def needs_cutout_text() -> str:
    return _(
        "The product could not be cut out of this photo automatically (a busy background). Draw a box around "
        "the product on the photo's page, then make videos."
    )


def render_report(photo: Photo) -> dict:
    """The contract's `cutout` for a job's video, read when it is rendered: the stored mask's own method and
    confidence (the pipeline sees the stored mask as a supplied one); needs_review holds the video for review."""
    return {
        "method": photo.cutout_method,
        "confidence": photo.cutout_confidence,
        "needs_review": photo.cutout_doubtful,
    }


def _guide(box, keep: Sequence[Stroke], remove: Sequence[Stroke], scale: float = 1.0) -> cutout.CutoutGuide:
    """The merchant's guide in the pixels of a copy `scale` times the photo's size; checked by the cutout itself
    (cutout.CutoutGuide.validated: cutout_box_invalid, cutout_strokes_invalid)."""
    try:
        scaled_box = tuple(float(v) * scale for v in box)
        if len(scaled_box) != 4:
            raise ValueError(box)
    except (TypeError, ValueError) as exc:
        raise cutout.CutoutError(_("The box must be four numbers: x0, y0, x1, y1."), "cutout_box_invalid") from exc

    def scaled(strokes: Sequence[Stroke]) -> list[list[tuple[float, float]]]:
        try:
            return [[(float(x) * scale, float(y) * scale) for x, y in stroke] for stroke in strokes]
        except (TypeError, ValueError) as exc:
            raise cutout.CutoutError(_("A stroke must be a list of [x, y] points."), "cutout_strokes_invalid") from exc

    return cutout.CutoutGuide(box=scaled_box, keep=scaled(keep), remove=scaled(remove))


def _ingested(photo: Photo) -> ingest.IngestedPhoto:
    """The stored photo as the pipeline sees it, without its transparency: the merchant's box decides, not the
    PNG's alpha (compute_cutout would prefer the alpha)."""
    with photo.file.open("rb") as fh:
        photo_in = ingest.ingest_photo(fh.read())
    photo_in.alpha = None
    return photo_in


def _mask_png(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(mask, "L").save(buf, "PNG", optimize=True)
    return buf.getvalue()


def preview_overlay(*, photo: Photo, box, keep: Sequence[Stroke] = (), remove: Sequence[Stroke] = ()) -> bytes:
    """An RGBA PNG at most PREVIEW_SIDE px long: transparent over the product the box would keep, a tint over
    the background. Drawn over the photo it shows the cut; nothing is stored. Raises cutout.CutoutError."""
    return overlay_png(_ingested(photo), box, keep, remove)


def overlay_png(photo_in: ingest.IngestedPhoto, box, keep: Sequence[Stroke] = (), remove: Sequence[Stroke] = ()):
    """preview_overlay on a photo already decoded (coordinates in its pixels); the work the preview times."""
    scale = min(1.0, PREVIEW_SIDE / max(photo_in.width, photo_in.height))
    small = ingest.IngestedPhoto(rgb=photo_in.rgb, alpha=None, format=photo_in.format, checksum=photo_in.checksum)
    if scale < 1.0:
        size = (max(1, round(photo_in.width * scale)), max(1, round(photo_in.height * scale)))
        small.rgb = cv2.resize(photo_in.rgb, size, interpolation=cv2.INTER_AREA)
    cut = cutout.compute_cutout(small, guide=_guide(box, keep, remove, scale))
    overlay = np.zeros((*cut.mask.shape, 4), np.uint8)
    overlay[cut.mask == 0] = PREVIEW_TINT
    buf = io.BytesIO()
    Image.fromarray(overlay, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def cut_out_with_box(*, photo: Photo, box, keep: Sequence[Stroke] = (), remove: Sequence[Stroke] = ()) -> Photo:
    """Run the guided cutout at full resolution and store it as the photo's mask, under a new file name (a cached
    old mask is never shown for the new one). Raises cutout.CutoutError (nothing changed)."""
    cut = cutout.compute_cutout(_ingested(photo), guide=_guide(box, keep, remove))
    old_mask = photo.mask.name
    photo.mask.save("mask.png", ContentFile(_mask_png(cut.mask)), save=False)
    new_mask = photo.mask.name
    photo.mask_source = Photo.MaskSource.GUIDED
    photo.cutout_confidence = cut.confidence
    photo.cutout_needs_review = cut.needs_review
    try:
        with transaction.atomic():
            photo.save(update_fields=["mask", "mask_source", "cutout_confidence", "cutout_needs_review"])
    except BaseException:
        photo.mask.storage.delete(new_mask)
        photo.mask.name = old_mask
        raise
    if old_mask and old_mask != new_mask:
        transaction.on_commit(lambda: photo.mask.storage.delete(old_mask))
    return photo
