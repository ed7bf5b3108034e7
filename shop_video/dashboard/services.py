"""Writes the dashboard makes beyond generation.services: video review, regenerate, zip archives.

The caller resolved every object through the organization-scoped selectors; these functions never look rows up
by a bare id.
"""

from __future__ import annotations

import posixpath
import secrets
import tempfile
import zipfile
from collections.abc import Iterable
from typing import IO

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from generation import services as generation_services
from generation.models import Batch, Video
from generation.pipeline.errors import BadInputError

REVIEW_NOTE_MAX = 500


class ReviewInvalid(BadInputError):
    code = "review_invalid"


def _set_review(video: Video, review: str, note: str) -> Video:
    with transaction.atomic():
        locked = Video.objects.select_for_update().get(pk=video.pk)
        locked.review = review
        locked.review_note = note
        locked.save(update_fields=["review", "review_note"])
    video.review, video.review_note = review, note
    return video


def approve_video(*, video: Video) -> int:
    """Approve a video; one that QA held back is delivered by this, so its credits are charged now (billing).
    Returns the credits charged; InsufficientCredits (nothing changed) when they are not there."""
    from billing import services as billing_services

    with transaction.atomic():
        locked = Video.objects.select_for_update().get(pk=video.pk)
        held_back = locked.review == Video.Review.NEEDS_REVIEW
        charged = (
            billing_services.charge_on_approval(organization_id=locked.job.organization_id, job_id=locked.job_id)
            if held_back
            else 0
        )
        _set_review(video, Video.Review.APPROVED, locked.review_note if held_back else "")
    return charged


def reject_video(*, video: Video, reason: str) -> Video:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewInvalid(_("Say why the video is rejected, so the next one can be better."))
    if len(reason) > REVIEW_NOTE_MAX:
        raise ReviewInvalid(_("Keep the reason under %(max)d characters.") % {"max": REVIEW_NOTE_MAX})
    return _set_review(video, Video.Review.REJECTED, reason)


def regenerate_video(*, video: Video, user=None) -> Batch:
    """The same photo and variant again with another seed, as a new one-job batch (priced and queued as usual)."""
    job = video.job
    seed = job.seed
    while seed == job.seed:
        seed = secrets.randbelow(2**31)
    matrix = generation_services.VariantMatrix(
        markets=[job.market.slug],
        scenes=[job.scene.slug],
        looks=[job.look.slug] if job.look_id else [],
        aspect_ratios=[job.aspect_ratio],
        seconds=[job.seconds],
        resolution=job.resolution,
        engine=job.engine,
        seed=seed,
        platform=job.platform,
        captions=job.captions,
        caption_price=job.caption_price,
        caption_cta=job.caption_cta,
    )
    name = _("%(product)s · new take") % {"product": job.photo.product.title}
    return generation_services.submit_batch(
        organization=video.organization,
        user=user,
        photos=[job.photo],
        matrix=matrix,
        source="dashboard",
        name=name,
    )


def archive_name(video: Video) -> str:
    """A readable, unique entry name: product-market-aspect-job.mp4."""
    job = video.job
    product = slugify(job.photo.product.title)[:40] or "product"
    aspect = job.aspect_ratio.replace(":", "x")
    return f"{product}-{job.market.slug}-{aspect}-{job.pk}.mp4"


def write_zip(videos: Iterable[Video]) -> IO[bytes]:
    """The videos in a zip written to a temporary file, copied in chunks: never all videos in memory.

    MP4s do not compress further, so entries are stored. The returned file is positioned at 0 and deletes
    itself when closed (FileResponse closes it after streaming).
    """
    out = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 — handed to the response, which closes it
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            seen: set[str] = set()
            for video in videos:
                name = archive_name(video)
                if name in seen:
                    stem, ext = posixpath.splitext(name)
                    name = f"{stem}-{video.pk}{ext}"
                seen.add(name)
                with video.file.open("rb") as src, archive.open(name, "w", force_zip64=True) as dst:
                    while chunk := src.read(1024 * 1024):
                        dst.write(chunk)
        out.seek(0)
        return out
    except BaseException:
        out.close()
        raise
