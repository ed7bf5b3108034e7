"""Everything that writes products, photos, batches and jobs (HackSoft styleguide: services write).

The database row is the truth about a job; Celery carries only its id (shared/DESIGN.md § Jobs that survive):
- a job is *claimed* by one atomic UPDATE (`state='queued'` → `running`, `attempt + 1`), so a duplicate delivery
  does nothing;
- every later write of a worker is *fenced* by its attempt number, so a worker that was cut off and comes back
  never overwrites a newer attempt;
- results are uploaded under a key of job and attempt and committed in one short transaction.
Workers never hold a transaction while they render (SQLite in the demo: short transactions only).
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image

from billing import pricing
from billing import services as billing_services
from generation import photo_cutouts
from generation.constants import (
    ASPECT_RATIOS,
    DEFAULT_FPS,
    ENGINES,
    LOOK_NEEDS_DIT,
    LOOK_NEEDS_DIT_MESSAGE,
    MAX_SECONDS,
    MIN_SECONDS,
    RESOLUTIONS,
    frame_size,
    look_needs_dit,
)
from generation.engines import model_sizes
from generation.models import Batch, Job, MarketPreset, ModelLook, Photo, Product, Scene, Video
from generation.pipeline import cutout, ingest, sanitize
from generation.pipeline.errors import BadInputError, JobCanceled, PipelineError
from generation.pipeline.platforms import PLATFORMS, export_report
from generation.pipeline.spec import VariantSpec
from generation.presets import MARKETS_BY_SLUG, PLATFORM_ASPECTS, LookPreset
from shop_video.core.context import job_log_context, set_job_log_fields

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from shop_video.merchants.models import Organization

logger = logging.getLogger(__name__)

# Sent after commit, so billing (reserve/capture/release) and outgoing webhooks can hook in without this module
# importing them. `job_finished` carries the final state: succeeded (capture), failed/canceled (release).
batch_submitted = Signal()  # sender=Batch, batch=..., jobs=[Job]
job_finished = Signal()  # sender=Job, job=..., state=...
job_requeued = Signal()  # sender=Job, job=... (retry_job)


# --- errors -----------------------------------------------------------------------------------------------------


class PhotoRejected(BadInputError):
    """One photo cannot be used: `.code` (e.g. not_an_image, image_too_small), `.message`, `.filename`."""

    code = "photo_rejected"

    def __init__(self, message: str, code: str | None = None, filename: str = ""):
        super().__init__(message, code)
        self.filename = filename


class UploadRejected(BadInputError):
    """Several files, one or more bad: `.errors` = [(filename, code, message), …]; nothing was stored."""

    code = "upload_rejected"

    def __init__(self, errors: list[tuple[str, str, str]], message: str | None = None):
        self.errors = errors
        super().__init__(
            message
            or _("%(count)d file(s) could not be used: %(names)s")
            % {"count": len(errors), "names": ", ".join(name for name, _code, _msg in errors)}
        )


class ProductInvalid(BadInputError):
    code = "invalid_product"

    def __init__(self, message: str, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code)
        self.fields = fields or {}


class MatrixInvalid(BadInputError):
    """The variant matrix cannot be submitted: `.fields` = {field: [messages]}."""

    code = "invalid_matrix"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None, code: str | None = None):
        self.fields = fields
        super().__init__(message or _("The video options are not valid."), code)


class JobNotRetryable(BadInputError):
    code = "not_retryable"


# --- products and photos ------------------------------------------------------------------------------------------

_EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}


def _read_upload(upload: UploadedFile | bytes | io.IOBase) -> bytes:
    """The upload's bytes, reading at most one byte past the size limit (ingest refuses bigger files)."""
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    limit = ingest.MAX_BYTES + 1
    if hasattr(upload, "chunks"):
        if hasattr(upload, "seek"):
            upload.seek(0)
        buf = bytearray()
        for chunk in upload.chunks():
            buf += chunk
            if len(buf) >= limit:
                break
        return bytes(buf[:limit])
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(limit)


def _clean_filename(filename: str) -> str:
    base = os.path.basename((filename or "").replace("\\", "/")).strip()
    try:
        return get_valid_filename(base)[:200] if base else "photo"
    except Exception:
        return "photo"


@dataclass
class _PreparedPhoto:
    filename: str
    data: bytes
    ext: str
    width: int
    height: int
    checksum: str
    mask_png: bytes | None  # None: the automatic cutout was refused; the merchant draws one (needs a cutout)
    mask_source: str
    cutout_confidence: float | None
    cutout_needs_review: bool


def _mask_png(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(mask, "L").save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _prepare_photo(upload, filename: str, mask_upload=None) -> _PreparedPhoto:
    """Decode, check and cut out one upload in memory; raises PhotoRejected. Nothing is stored here."""
    name = _clean_filename(filename)
    try:
        data = _read_upload(upload)
        photo_in = ingest.ingest_photo(data)
        supplied = cutout.load_mask(_read_upload(mask_upload)) if mask_upload is not None else None
        cut = photo_cutouts.automatic_cutout(photo_in, supplied)
    except PipelineError as exc:
        raise PhotoRejected(exc.message, exc.code, name) from exc
    except MemoryError as exc:
        raise PhotoRejected(_("The image is too large to be processed."), "image_too_large", name) from exc
    return _PreparedPhoto(
        filename=name,
        # The image's own bytes only: a polyglot's trailing archive or HTML and text chunks are not stored.
        data=sanitize.image_bytes_only(data, photo_in.format),
        ext=_EXTENSIONS.get(photo_in.format, "img"),
        width=photo_in.width,
        height=photo_in.height,
        checksum=photo_in.checksum,
        mask_png=_mask_png(cut.mask) if cut is not None else None,
        mask_source=cut.method if cut is not None else "",
        cutout_confidence=cut.confidence if cut is not None else None,
        cutout_needs_review=cut.needs_review if cut is not None else True,
    )


def _store_photo(product: Product, prepared: _PreparedPhoto, stored: list[str]) -> Photo:
    """Write the files and the row; every stored storage name is appended to `stored` for clean-up."""
    photo = Photo(
        organization_id=product.organization_id,
        product=product,
        original_name=prepared.filename,
        width=prepared.width,
        height=prepared.height,
        checksum=prepared.checksum,
        mask_source=prepared.mask_source,
        cutout_confidence=prepared.cutout_confidence,
        cutout_needs_review=prepared.cutout_needs_review,
    )
    photo.file.save(f"photo.{prepared.ext}", ContentFile(prepared.data), save=False)
    stored.append(photo.file.name)
    if prepared.mask_png is not None:
        photo.mask.save("mask.png", ContentFile(prepared.mask_png), save=False)
        stored.append(photo.mask.name)
    photo.save()
    return photo


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete %s from storage", name)


def _validate_product_fields(title: str, sku: str, category: str) -> tuple[str, str, str]:
    fields: dict[str, list[str]] = {}
    title = (title or "").strip()
    sku = (sku or "").strip()
    category = category or Product.Category.OTHER
    if not title:
        fields["title"] = [_("A title is required.")]
    elif len(title) > 200:
        fields["title"] = [_("At most 200 characters.")]
    if len(sku) > 100:
        fields["sku"] = [_("At most 100 characters.")]
    if category not in Product.Category.values:
        fields["category"] = [_("Unknown category %(category)s.") % {"category": category}]
    if fields:
        raise ProductInvalid(_("The product is not valid."), fields=fields)
    return title, sku, category


def create_product(*, organization: Organization, title: str, sku: str = "", category: str = "other") -> Product:
    title, sku, category = _validate_product_fields(title, sku, category)
    if sku and Product.objects.filter(organization=organization, sku=sku).exists():
        raise ProductInvalid(
            _("A product with SKU %(sku)s already exists.") % {"sku": sku},
            "duplicate_sku",
            {"sku": [_("This SKU is already used.")]},
        )
    try:
        with transaction.atomic():
            return Product.objects.create(organization=organization, title=title, sku=sku, category=category)
    except IntegrityError as exc:  # a concurrent create with the same SKU
        raise ProductInvalid(
            _("A product with SKU %(sku)s already exists.") % {"sku": sku},
            "duplicate_sku",
            {"sku": [_("This SKU is already used.")]},
        ) from exc


def add_photo(*, product: Product, upload: UploadedFile | bytes, filename: str, mask_upload=None) -> Photo:
    """Ingest, cut out and store one photo with its mask PNG; on any error nothing is left behind."""
    prepared = _prepare_photo(upload, filename, mask_upload)
    stored: list[str] = []
    try:
        with transaction.atomic():
            return _store_photo(product, prepared, stored)
    except BaseException:
        _delete_files(stored)
        raise


def create_product_with_photos(
    *,
    organization: Organization,
    title: str,
    sku: str = "",
    category: str = "other",
    uploads: Sequence[tuple[str, UploadedFile | bytes]],
) -> Product:
    """All or nothing: one bad file → UploadRejected naming every bad file; no product, photos or files stored."""
    _validate_product_fields(title, sku, category)
    if not uploads:
        raise UploadRejected([], _("Add at least one photo."))
    prepared: list[_PreparedPhoto] = []
    errors: list[tuple[str, str, str]] = []
    for filename, upload in uploads:
        try:
            prepared.append(_prepare_photo(upload, filename))
        except PhotoRejected as exc:
            errors.append((exc.filename, exc.code, exc.message))
    if errors:
        raise UploadRejected(errors)
    stored: list[str] = []
    try:
        with transaction.atomic():
            product = create_product(organization=organization, title=title, sku=sku, category=category)
            for item in prepared:
                _store_photo(product, item, stored)
    except BaseException:
        _delete_files(stored)
        raise
    return product


def set_photo_mask(*, photo: Photo, upload) -> Photo:
    """A merchant-supplied mask (white = product) replaces the cutout; the photo decides the mask's size."""
    name = photo.original_name or "photo"
    try:
        supplied = cutout.load_mask(_read_upload(upload))
        with photo.file.open("rb") as fh:
            photo_in = ingest.ingest_photo(fh.read())
        cut = cutout.compute_cutout(photo_in, supplied)
    except PipelineError as exc:
        raise PhotoRejected(exc.message, exc.code, name) from exc
    old_mask = photo.mask.name
    stored: list[str] = []
    try:
        photo.mask.save("mask.png", ContentFile(_mask_png(cut.mask)), save=False)
        stored.append(photo.mask.name)
        photo.mask_source = Photo.MaskSource.SUPPLIED
        # The merchant drew or chose this mask: it is what they want, nothing is left to check.
        photo.cutout_confidence = 1.0
        photo.cutout_needs_review = False
        with transaction.atomic():
            photo.save(update_fields=["mask", "mask_source", "cutout_confidence", "cutout_needs_review"])
    except BaseException:
        _delete_files(stored)
        photo.mask.name = old_mask
        raise
    if old_mask and old_mask != photo.mask.name:
        transaction.on_commit(lambda: _delete_files([old_mask]))
    return photo


# --- the variant matrix -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantMatrix:
    markets: Sequence[str]
    scenes: Sequence[str] = ()  # empty → the market's default scene
    looks: Sequence[str] = ()  # empty → no human model
    aspect_ratios: Sequence[str] = ()  # empty → the market's platform defaults
    seconds: Sequence[int] = (5,)
    resolution: str = "480p"
    engine: str = "compositor"
    seed: int | None = None  # None → a random seed per job
    platform: str = ""  # "" → none enforced; else the videos must fit its rules (aspect ratios, durations, sizes)
    captions: bool = False  # overlay the localized title (generation.pipeline.captions)
    caption_price: bool = False  # … with the product's price, formatted for the market
    caption_cta: bool = False  # … with the call to action


@dataclass(frozen=True)
class _Variant:
    market: MarketPreset
    scene: Scene
    look: ModelLook | None
    aspect_ratio: str
    seconds: int
    resolution: str
    engine: str

    @property
    def credits(self) -> int:
        return pricing.credits_for_video(engine=self.engine, resolution=self.resolution, seconds=self.seconds)


def max_videos_per_batch() -> int:
    return int(getattr(settings, "SHOPVIDEO_MAX_VIDEOS_PER_BATCH", 10_000))


def _unique(values: Iterable) -> list:
    out: list = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _market_aspects(market: MarketPreset) -> list[str]:
    seen: list[str] = []
    for platform in market.platforms or []:
        for aspect in PLATFORM_ASPECTS.get(platform, ()):
            if aspect not in seen:
                seen.append(aspect)
    return seen or ["9:16"]


def _default_scene(market: MarketPreset) -> Scene | None:
    preset = MARKETS_BY_SLUG.get(market.slug)
    if preset and preset.scenes:
        found = Scene.objects.filter(slug=preset.scenes[0]).first()
        if found:
            return found
    return market.scenes.order_by("slug").first()


def _expand(*, organization: Organization, matrix: VariantMatrix, photo_count: int | None = None) -> list[_Variant]:
    """Validate the matrix and return one variant per video of one photo; raises MatrixInvalid."""
    fields: dict[str, list[str]] = {}
    codes: set[str] = set()

    def err(name: str, message: str, code: str = MatrixInvalid.code) -> None:
        fields.setdefault(name, []).append(message)
        codes.add(code)

    market_slugs = _unique(s.strip().lower() for s in (matrix.markets or []) if isinstance(s, str))
    if not market_slugs:
        err("markets", _("Choose at least one market."))
    markets = {m.slug: m for m in MarketPreset.objects.filter(slug__in=market_slugs)}
    for slug in market_slugs:
        if slug not in markets or slug not in MARKETS_BY_SLUG:
            err("markets", _("Unknown market %(slug)s.") % {"slug": slug})

    scene_slugs = _unique(matrix.scenes or ())
    scenes = {s.slug: s for s in Scene.objects.filter(slug__in=scene_slugs)}
    for slug in scene_slugs:
        if slug not in scenes:
            err("scenes", _("Unknown scene %(slug)s.") % {"slug": slug})

    look_slugs = _unique(matrix.looks or ())
    looks: dict[tuple[str, str], ModelLook] = {}
    if look_slugs and markets:
        rows = ModelLook.objects.filter(market__in=markets.values(), slug__in=look_slugs).filter(
            Q(organization__isnull=True) | Q(organization=organization)
        )
        for row in rows.select_related("market").order_by(F("organization").asc(nulls_first=True)):
            looks[(row.market.slug, row.slug)] = row  # the organization's own look wins over a built-in one
        for slug in look_slugs:
            for market_slug in markets:
                if (market_slug, slug) not in looks:
                    err(
                        "looks",
                        _("The model look %(look)s is not available in market %(market)s.")
                        % {"look": slug, "market": market_slug},
                    )

    aspects = _unique(matrix.aspect_ratios or ())
    for aspect in aspects:
        if aspect not in ASPECT_RATIOS:
            err(
                "aspect_ratios",
                _("Unknown aspect ratio %(aspect)s; choose from %(choices)s.")
                % {"aspect": aspect, "choices": ", ".join(ASPECT_RATIOS)},
            )

    seconds = _unique(matrix.seconds or ())
    if not seconds:
        err("seconds", _("Choose at least one duration."))
    for value in seconds:
        if isinstance(value, bool) or not isinstance(value, int) or not (MIN_SECONDS <= value <= MAX_SECONDS):
            err(
                "seconds",
                _("Durations must be whole seconds from %(min)d to %(max)d.")
                % {"min": MIN_SECONDS, "max": MAX_SECONDS},
            )
            break
    if matrix.resolution not in RESOLUTIONS:
        err("resolution", _("Unknown resolution %(value)s.") % {"value": matrix.resolution})
    if matrix.engine not in ENGINES:
        err("engine", _("Unknown engine %(value)s.") % {"value": matrix.engine})
    elif (
        matrix.engine == "dit"
        and matrix.resolution in RESOLUTIONS
        and not model_sizes.supports(settings.SHOPVIDEO_MODEL_PATH, matrix.resolution)
    ):
        err(
            "resolution",
            _("The installed video model was not trained for %(value)s; choose %(choices)s.")
            % {"value": matrix.resolution, "choices": model_sizes.supported_resolutions(settings.SHOPVIDEO_MODEL_PATH)},
            model_sizes.ResolutionUnsupportedError.code,
        )
    if matrix.engine in ENGINES and look_needs_dit(engine=matrix.engine, looks=look_slugs):
        err("looks", str(LOOK_NEEDS_DIT_MESSAGE), LOOK_NEEDS_DIT)
    if matrix.seed is not None and (
        isinstance(matrix.seed, bool) or not isinstance(matrix.seed, int) or not 0 <= matrix.seed < 2**31
    ):
        err("seed", _("The seed must be a whole number from 0 to 2147483647."))
    aspects = _check_platform(matrix, aspects, seconds, err)
    _check_captions(matrix, err)
    if fields:
        # One kind of error: its own code (platform_rule, caption_options); several: the general one.
        raise MatrixInvalid(fields, code=codes.pop() if len(codes) == 1 else None)

    variants: list[_Variant] = []
    for market_slug in market_slugs:
        market = markets[market_slug]
        market_scenes = [scenes[s] for s in scene_slugs] or [_default_scene(market)]
        if market_scenes[0] is None:
            raise MatrixInvalid({"scenes": [_("Market %(slug)s has no scenes; choose one.") % {"slug": market_slug}]})
        market_looks: list[ModelLook | None] = [looks[(market_slug, s)] for s in look_slugs] or [None]
        for scene in market_scenes:
            for look in market_looks:
                for aspect in aspects or _market_aspects(market):
                    for secs in seconds:
                        variants.append(_Variant(market, scene, look, aspect, secs, matrix.resolution, matrix.engine))
    total = len(variants) * (photo_count if photo_count is not None else 1)
    if total > max_videos_per_batch():
        raise MatrixInvalid(
            {
                "matrix": [
                    _("This would make %(count)d videos; at most %(max)d per batch.")
                    % {"count": total, "max": max_videos_per_batch()}
                ]
            }
        )
    return variants


def _check_platform(matrix: VariantMatrix, aspects: list[str], seconds: list, err) -> list[str]:
    """The chosen platform's rules that can be known before rendering (aspect ratio, duration, resolution, frame
    rate); size and bitrate are checked on the finished file. Returns the aspect ratios: the platform's own when
    none were chosen."""
    if not matrix.platform:
        return aspects
    preset = PLATFORMS.get(matrix.platform)
    if preset is None:
        err(
            "platform",
            _("Unknown platform %(value)s; choose from %(choices)s.")
            % {"value": matrix.platform, "choices": ", ".join(PLATFORMS)},
            "unknown_platform",
        )
        return aspects
    for aspect in aspects:
        if aspect in ASPECT_RATIOS and aspect not in preset.aspects:
            err(
                "aspect_ratios",
                _("%(platform)s takes %(choices)s, not %(aspect)s (rule aspect_ratio).")
                % {"platform": preset.name, "choices": " / ".join(preset.aspects), "aspect": aspect},
                "platform_rule",
            )
    for value in seconds:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < preset.duration_min:
                err(
                    "seconds",
                    _("%(platform)s needs at least %(limit)g s; %(value)d s is too short (rule duration_min).")
                    % {"platform": preset.name, "limit": preset.duration_min, "value": value},
                    "platform_rule",
                )
            elif value > preset.duration_max:
                err(
                    "seconds",
                    _("%(platform)s takes at most %(limit)g s; %(value)d s is too long (rule duration_max).")
                    % {"platform": preset.name, "limit": preset.duration_max, "value": value},
                    "platform_rule",
                )
    if matrix.resolution in RESOLUTIONS:
        for aspect in aspects or preset.aspects:
            if aspect in ASPECT_RATIOS and min(frame_size(matrix.resolution, aspect)) < preset.resolution_min:
                err(
                    "resolution",
                    _("%(platform)s needs a shorter side of at least %(limit)d px (rule resolution_min).")
                    % {"platform": preset.name, "limit": preset.resolution_min},
                    "platform_rule",
                )
                break
    if not preset.fps_min <= DEFAULT_FPS <= preset.fps_max:
        err("platform", _("%(platform)s does not take our frame rate.") % {"platform": preset.name}, "platform_rule")
    return aspects or list(preset.aspects)


def _check_captions(matrix: VariantMatrix, err) -> None:
    if (matrix.caption_price or matrix.caption_cta) and not matrix.captions:
        err(
            "captions",
            _("A price tag or a call to action is part of the captions: turn captions on."),
            "caption_options",
        )


def _check_caption_prices(photos: Sequence[Photo], matrix: VariantMatrix) -> None:
    """A price tag needs the product's price (never a made-up one): refuse rather than leave it out silently."""
    if not (matrix.captions and matrix.caption_price):
        return
    missing = sorted({p.product.title for p in photos if p.product.price is None})
    if missing:
        raise MatrixInvalid(
            {
                "captions": [
                    _("A price tag needs the product's price; set one for: %(titles)s.")
                    % {"titles": ", ".join(missing[:5])}
                ]
            },
            code="caption_price_missing",
        )


def validate_matrix(
    *, organization: Organization, matrix: VariantMatrix, photos: Sequence[Photo] | None = None
) -> None:
    _expand(organization=organization, matrix=matrix, photo_count=len(photos) if photos is not None else None)
    if photos is not None:
        _check_caption_prices(_check_photos(organization, photos), matrix)


def _check_photos(organization: Organization, photos: Sequence[Photo]) -> list[Photo]:
    if not photos:
        raise MatrixInvalid({"photos": [_("Choose at least one photo.")]})
    ids = _unique(p.pk for p in photos)
    own = {p.pk: p for p in Photo.objects.filter(organization=organization, pk__in=ids).select_related("product")}
    if len(own) != len(ids):
        # Never reveal which ids exist elsewhere: another organization's photo is simply "not found".
        raise MatrixInvalid(
            {"photos": [_("One or more photos were not found.")]}, _("One or more photos were not found.")
        )
    chosen = [own[pk] for pk in ids]
    waiting = [photo for photo in chosen if photo.needs_cutout]
    if waiting:
        names = ", ".join(str(photo) for photo in waiting)
        raise MatrixInvalid(
            {"photos": [f"{names}: {photo_cutouts.needs_cutout_text()}"]}, code=photo_cutouts.PHOTO_NEEDS_CUTOUT
        )
    return chosen


def _hold_products(organization: Organization, photos: Sequence[Photo]) -> None:
    """Share-lock the photos' products for the submitting transaction, and check they still exist.

    A product deletion (shop_video.ops.lifecycle) locks its product row for update, checks for active jobs and
    deletes in cascade. Without this lock a submission racing it committed jobs that the cascade then deleted,
    their reserved credits stuck. With it the two serialize: a submission after the deletion finds the product gone
    (a clear "not found"), a deletion after the submission finds queued jobs (409). Submissions share the lock."""
    product_ids = sorted({photo.product_id for photo in photos})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Product._meta.db_table} WHERE id = ANY(%s) FOR SHARE",  # noqa: S608 (table name)
                [product_ids],
            )
            found = {row[0] for row in cursor.fetchall()}
    else:  # SQLite (the demo) serializes writing transactions anyway
        found = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    if len(found) != len(product_ids):
        raise MatrixInvalid(
            {"photos": [_("One or more photos were not found.")]}, _("One or more photos were not found.")
        )


def estimate_batch(*, organization: Organization, photos: Sequence[Photo], matrix: VariantMatrix) -> pricing.Estimate:
    photos = _check_photos(organization, photos)
    variants = _expand(organization=organization, matrix=matrix, photo_count=len(photos))
    _check_caption_prices(photos, matrix)
    return pricing.estimate((v.engine, v.resolution, v.seconds) for _p in photos for v in variants)


def submit_batch(
    *,
    organization: Organization,
    user=None,
    photos: Sequence[Photo],
    matrix: VariantMatrix,
    source: str = "dashboard",
    name: str = "",
    groups: Sequence[tuple[Sequence[Photo], VariantMatrix]] | None = None,
) -> Batch:
    """One transaction: the Batch and one Job per photo × variant; jobs are dispatched after commit.

    `groups` — (photos, matrix) pairs — makes one batch with a different matrix per group of photos (the CSV
    import: each row names its own markets and formats); `photos` and `matrix` are then ignored."""
    if source not in Batch.Source.values:
        raise MatrixInvalid({"source": [_("Unknown source %(value)s.") % {"value": source}]})
    plan: list[tuple[Photo, _Variant, VariantMatrix]] = []
    for group_photos, group_matrix in groups if groups is not None else [(photos, matrix)]:
        checked = _check_photos(organization, group_photos)
        group_variants = _expand(organization=organization, matrix=group_matrix, photo_count=len(checked))
        _check_caption_prices(checked, group_matrix)
        plan.extend((p, v, group_matrix) for p in checked for v in group_variants)
    if len(plan) > max_videos_per_batch():
        raise MatrixInvalid(
            {
                "matrix": [
                    _("This would make %(count)d videos; at most %(max)d per batch.")
                    % {"count": len(plan), "max": max_videos_per_batch()}
                ]
            }
        )
    now = timezone.now()
    max_attempts = int(settings.SHOPVIDEO_JOB_MAX_ATTEMPTS)
    with transaction.atomic():
        _hold_products(organization, [photo for photo, _v, _m in plan])
        batch = Batch.objects.create(
            organization=organization,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            source=source,
            name=(name or "").strip()[:200],
        )
        jobs = [
            Job(
                organization=organization,
                batch=batch,
                photo=photo,
                market=v.market,
                scene=v.scene,
                look=v.look,
                aspect_ratio=v.aspect_ratio,
                resolution=v.resolution,
                seconds=v.seconds,
                fps=DEFAULT_FPS,
                engine=v.engine,
                seed=m.seed if m.seed is not None else secrets.randbelow(2**31),
                credits=v.credits,
                platform=m.platform,
                captions=m.captions,
                caption_price=m.captions and m.caption_price,
                caption_cta=m.captions and m.caption_cta,
                max_attempts=max_attempts,
                state=Job.State.QUEUED,
                queued_at=now,
            )
            for photo, v, m in plan
        ]
        jobs = Job.objects.bulk_create(jobs, batch_size=500)
        # Credits: reserved under the account's row lock; InsufficientCredits rolls the batch back (h10, billing).
        billing_services.reserve_jobs(organization=organization, credits_by_job={j.pk: j.credits for j in jobs})
        transaction.on_commit(lambda: batch_submitted.send(sender=Batch, batch=batch, jobs=jobs))
        transaction.on_commit(dispatch_jobs_safely)
    return batch


# --- dispatch: fair between organizations -------------------------------------------------------------------------


def _task_for(engine: str):
    from generation import tasks

    return tasks.run_job_gpu if engine == "dit" else tasks.run_job_cpu


def _send(job_id: int, engine: str, countdown: float | None = None) -> None:
    _task_for(engine).apply_async(
        (job_id,),
        countdown=countdown,
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
    )


def _per_org_limit() -> int:
    return max(1, int(getattr(settings, "SHOPVIDEO_DISPATCH_PER_ORG", 8)))


def dispatch_jobs(*, limit_per_org: int | None = None) -> int:
    """Send queued, not yet sent jobs to the broker: at most `limit_per_org` in flight per organization, taking
    turns between organizations, so one organization's 10,000-job batch never starves another's single job.
    Jobs wait in the database (state queued, dispatched_at null) until their organization has room."""
    limit = limit_per_org or _per_org_limit()
    waiting = (
        Job.objects.filter(state=Job.State.QUEUED, dispatched_at__isnull=True)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    org_ids = sorted(set(waiting))
    if not org_ids:
        return 0
    in_flight: dict[int, int] = dict.fromkeys(org_ids, 0)
    busy = Job.objects.filter(organization_id__in=org_ids).filter(
        Q(state=Job.State.RUNNING) | Q(state=Job.State.QUEUED, dispatched_at__isnull=False)
    )
    for org_id in busy.values_list("organization_id", flat=True):
        in_flight[org_id] += 1
    queues: dict[int, list[tuple[int, str]]] = {}
    for org_id in org_ids:
        room = limit - in_flight[org_id]
        if room > 0:
            queues[org_id] = list(
                Job.objects.filter(organization_id=org_id, state=Job.State.QUEUED, dispatched_at__isnull=True)
                .order_by("queued_at", "id")
                .values_list("id", "engine")[:room]
            )
    sent = 0
    # Round robin: the first job of every organization, then the second of each, …
    for rank in range(max((len(q) for q in queues.values()), default=0)):
        for org_id in org_ids:
            q = queues.get(org_id, [])
            if rank < len(q):
                sent += _dispatch_one(*q[rank])
    return sent


def _dispatch_one(job_id: int, engine: str, countdown: float | None = None) -> int:
    # Mark first (only one dispatcher wins the row), then send; a failed send is undone so the next tick retries.
    stamp = timezone.now()
    won = Job.objects.filter(id=job_id, state=Job.State.QUEUED, dispatched_at__isnull=True).update(dispatched_at=stamp)
    if not won:
        return 0
    try:
        _send(job_id, engine, countdown)
    except Exception:
        logger.exception("could not send job %s to the broker; the reaper will try again", job_id)
        Job.objects.filter(id=job_id, state=Job.State.QUEUED, dispatched_at=stamp).update(dispatched_at=None)
        return 0
    return 1


def dispatch_jobs_safely() -> None:
    """For on_commit hooks: a broker outage must not turn a committed submission into an error page."""
    try:
        dispatch_jobs()
    except Exception:
        logger.exception("dispatch failed; the reaper will dispatch later")


# --- cancel and retry ---------------------------------------------------------------------------------------------


def _delivered_or_not(job_ids: Iterable[int]) -> dict[int, bool]:
    """What billing settles: each finished job's id → whether its video was delivered (capture) or not (release)."""
    finished = (Job.State.SUCCEEDED, Job.State.FAILED, Job.State.CANCELED)
    rows = Job.objects.filter(id__in=list(job_ids), state__in=finished).values_list("id", "state")
    return {job_id: state == Job.State.SUCCEEDED for job_id, state in rows}


def _finished(job_ids: Iterable[int]) -> None:
    ids = list(job_ids)
    if not ids:
        return
    # Capture or release the jobs' credits in the transaction that finalizes them: exactly once (h10, billing).
    billing_services.settle_jobs(_delivered_or_not(ids))

    def send() -> None:
        for job in Job.objects.filter(id__in=ids):
            job_finished.send(sender=Job, job=job, state=job.state)

    transaction.on_commit(send)


def cancel_job(*, job: Job) -> Job:
    """Queued: it will never run. Running: it stops at its next progress callback. Final: nothing changes."""
    with transaction.atomic():
        changed = Job.objects.filter(id=job.pk, state__in=Job.ACTIVE_STATES).update(
            state=Job.State.CANCELED,
            stage="canceled",
            finished_at=timezone.now(),
            error_code="",
            error_message="",
        )
        if changed:
            _finished([job.pk])
            transaction.on_commit(dispatch_jobs_safely)  # the organization has room again
    job.refresh_from_db()
    return job


def cancel_batch(*, batch: Batch) -> int:
    with transaction.atomic():
        ids = list(batch.jobs.filter(state__in=Job.ACTIVE_STATES).values_list("id", flat=True))
        changed = Job.objects.filter(id__in=ids, state__in=Job.ACTIVE_STATES).update(
            state=Job.State.CANCELED, stage="canceled", finished_at=timezone.now()
        )
        _finished(ids)
        transaction.on_commit(dispatch_jobs_safely)
    return changed


def retry_job(*, job: Job) -> Job:
    """A failed or canceled job is queued again with a fresh attempt budget."""
    with transaction.atomic():
        changed = Job.objects.filter(id=job.pk, state__in=[Job.State.FAILED, Job.State.CANCELED]).update(
            state=Job.State.QUEUED,
            max_attempts=F("attempt") + int(settings.SHOPVIDEO_JOB_MAX_ATTEMPTS),
            progress=0.0,
            stage="",
            error_code="",
            error_message="",
            worker="",
            heartbeat_at=None,
            started_at=None,
            finished_at=None,
            queued_at=timezone.now(),
            dispatched_at=None,
        )
        if not changed:
            raise JobNotRetryable(_("Only a failed or canceled job can be retried."))
        job.refresh_from_db()
        billing_services.reserve_jobs(
            organization=job.organization, credits_by_job={job.pk: job.credits}
        )  # a new round (h10, billing)
        transaction.on_commit(lambda: job_requeued.send(sender=Job, job=job))
        transaction.on_commit(dispatch_jobs_safely)
    return job


# --- the worker side ----------------------------------------------------------------------------------------------


def _work_dir(job_id: int, attempt: int) -> Path:
    return Path(settings.SHOPVIDEO_WORK_DIR) / f"job-{job_id}" / f"attempt-{attempt}"


def _running(job_id: int, attempt: int):
    return Job.objects.filter(id=job_id, attempt=attempt, state=Job.State.RUNNING)


class _JobSpec(VariantSpec):
    """VariantSpec whose model look comes from the database row (organizations edit and add looks)."""

    def __init__(self, *, look_row: ModelLook | None = None, **kwargs):
        super().__init__(**kwargs)
        object.__setattr__(self, "_look_row", look_row)

    @property
    def look_preset(self) -> LookPreset | None:
        row = self._look_row
        if row is None:
            return super().look_preset
        return LookPreset(row.slug, row.name, row.descriptors)


class ProgressReporter:
    """The progress callback: writes progress, stage and heartbeat at most ~2×/s, fenced by attempt; raises
    JobCanceled when the row was canceled or a newer attempt took over. A heartbeat thread keeps the row alive
    through stages that report nothing (encode, QA) so that a slow but alive job is not reaped."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id = job_id
        self.attempt = attempt
        self.stopped = threading.Event()  # the row is no longer ours (canceled or superseded)
        self._done = threading.Event()
        self._last = 0.0
        self._stage = ""
        self._thread: threading.Thread | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.stopped.is_set():
            raise JobCanceled(f"job {self.job_id} attempt {self.attempt} was canceled or superseded")
        now = time.monotonic()
        if stage == self._stage and now - self._last < 0.5:
            return
        self._last, self._stage = now, stage
        fraction = min(1.0, max(0.0, float(fraction)))
        if not _running(self.job_id, self.attempt).update(
            progress=fraction, stage=stage[:20], heartbeat_at=timezone.now()
        ):
            self.stopped.set()
            raise JobCanceled(f"job {self.job_id} attempt {self.attempt} was canceled or superseded")

    def _beat(self) -> None:
        interval = max(0.5, min(10.0, float(settings.SHOPVIDEO_HEARTBEAT_STALE_SECONDS) / 4))
        try:
            while not self._done.wait(interval):
                try:
                    if not _running(self.job_id, self.attempt).update(heartbeat_at=timezone.now()):
                        self.stopped.set()
                        return
                except Exception:
                    logger.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> ProgressReporter:
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-job-{self.job_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _load_mask(photo: Photo) -> np.ndarray | None:
    if not photo.mask:
        return None
    with photo.mask.open("rb") as fh:
        return cutout.load_mask(fh.read())


def _attempt_prefix(job: Job) -> str:
    probe = Video(organization_id=job.organization_id, job_id=job.pk, attempt=0)
    return os.path.dirname(os.path.dirname(Video._meta.get_field("file").generate_filename(probe, "x")))


def _delete_other_attempts(job: Job, keep_attempt: int | None) -> None:
    """Remove stored files of every attempt of this job but `keep_attempt` (crashed or superseded attempts)."""
    prefix = _attempt_prefix(job)
    try:
        dirs, _files = default_storage.listdir(prefix)
    # Nothing stored yet, or a storage backend without listdir (Django's base Storage raises NotImplementedError).
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    for name in dirs:
        if keep_attempt is not None and name == f"attempt-{keep_attempt}":
            continue
        _delete_tree(f"{prefix}/{name}")


def _delete_tree(prefix: str) -> None:
    try:
        dirs, files = default_storage.listdir(prefix)
    except (FileNotFoundError, OSError):
        return
    _delete_files(f"{prefix}/{f}" for f in files)
    for d in dirs:
        _delete_tree(f"{prefix}/{d}")
    local = getattr(default_storage, "location", None)
    if local:  # FileSystemStorage leaves empty folders behind
        with contextlib.suppress(OSError):
            os.rmdir(Path(local) / prefix)


class _Fenced(Exception):
    """The attempt lost its claim before committing (canceled, or a newer attempt took over)."""


def commit_result(job: Job, attempt: int, result) -> bool:
    """Upload the files under org/job/attempt, then in one short transaction check the fence, create the Video
    and finish the job. Returns False (and removes the uploads) when the fence fails."""
    export = getattr(result, "export_check", None) or {}
    # A video made for a platform whose rules it breaks is kept for review, not delivered, not charged (like QA).
    export_failed = bool(export.get("enforced")) and not export.get("passed", True)
    # A mask its method was not sure of, and the merchant has not checked: held for review like a QA failure.
    photo_cutout = getattr(result, "photo_cutout", None) or {}
    cutout_doubtful = bool(photo_cutout.get("needs_review"))
    passed = bool(result.qa_passed) and not export_failed and not cutout_doubtful
    video = Video(
        organization_id=job.organization_id,
        job=job,
        attempt=attempt,
        width=result.width,
        height=result.height,
        fps=result.fps,
        frames=result.frames,
        duration_seconds=result.duration_seconds,
        size_bytes=Path(result.video_path).stat().st_size,
        psnr_min=_num(result.qa, "psnr_min"),
        psnr_mean=_num(result.qa, "psnr_mean"),
        ssim_min=_num(result.qa, "ssim_min"),
        edge_iou=_num(result.qa, "edge_iou"),
        flicker=_num(result.qa, "flicker"),
        qa_passed=bool(result.qa_passed) and not cutout_doubtful,
        review=Video.Review.READY if passed else Video.Review.NEEDS_REVIEW,
        metadata={
            **{k: v for k, v in result.contract().items() if k != "placements"},
            **({"export_check": export} if export else {}),
            **({"cutout": photo_cutout} if photo_cutout else {}),
        },
    )
    uploaded: list[str] = []
    try:
        for field_name, path, name in (
            ("file", result.video_path, "video.mp4"),
            ("poster", result.poster_path, "poster.jpg"),
            ("preview", result.preview_path, "preview.mp4"),
        ):
            if path and Path(path).exists():
                with open(path, "rb") as fh:
                    getattr(video, field_name).save(name, File(fh), save=False)
                uploaded.append(getattr(video, field_name).name)
        now = timezone.now()
        with transaction.atomic():
            if passed:
                update = {"state": Job.State.SUCCEEDED, "error_code": "", "error_message": ""}
            elif cutout_doubtful:
                update = {
                    "state": Job.State.FAILED,
                    "error_code": "cutout_needs_review",
                    "error_message": _(
                        "The product's cutout in this photo is doubtful (confidence %(confidence).2f): the video is "
                        "kept for review and was not delivered. Check the cutout with the box tool on the photo, "
                        "or approve the video if the product looks right."
                    )
                    % {"confidence": photo_cutout.get("confidence") or 0.0},
                }
            elif result.qa_passed:
                broken = export.get("violations") or []
                update = {
                    "state": Job.State.FAILED,
                    "error_code": "export_check_failed",
                    "error_message": _(
                        "The video breaks the export rules of %(platform)s (%(rules)s): %(details)s. It is kept for "
                        "review and was not delivered."
                    )
                    % {
                        "platform": export.get("platform", ""),
                        "rules": ", ".join(v["rule"] for v in broken),
                        "details": "; ".join(v["message"] for v in broken),
                    },
                }
            else:
                update = {
                    "state": Job.State.FAILED,
                    "error_code": "qa_failed",
                    "error_message": _(
                        "The video did not keep the product faithful enough (PSNR %(psnr).1f dB, SSIM %(ssim).3f); "
                        "it is kept for review and was not delivered."
                    )
                    % {"psnr": video.psnr_min or 0.0, "ssim": video.ssim_min or 0.0},
                }
            if not _running(job.pk, attempt).update(
                progress=1.0, stage="done", heartbeat_at=now, finished_at=now, **update
            ):
                raise _Fenced
            # A video kept for review by an earlier attempt is replaced (OneToOne: one video per job, ever).
            old = list(Video.objects.filter(job_id=job.pk).exclude(attempt=attempt))
            for row in old:
                row.delete()
            video.save()
            _finished([job.pk])
    except _Fenced:
        logger.info("job %s attempt %s lost its claim before commit; discarding its files", job.pk, attempt)
        _delete_files(uploaded)
        _delete_tree(f"{_attempt_prefix(job)}/attempt-{attempt}")  # the folder is this attempt's alone
        return False
    except BaseException:
        _delete_files(uploaded)
        raise
    _delete_other_attempts(job, keep_attempt=attempt)
    # Local work folders of crashed attempts on this machine (a killed worker could not clean up).
    for other in _work_dir(job.pk, attempt).parent.glob("attempt-*"):
        if other.name != f"attempt-{attempt}":
            shutil.rmtree(other, ignore_errors=True)
    return True


def _num(report, name: str) -> float | None:
    value = getattr(report, name, None)
    if value is None and hasattr(report, "summary"):
        value = report.summary().get(name)
    return None if value is None else float(value)


def _fail(job_id: int, attempt: int, code: str, message: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        changed = _running(job_id, attempt).update(
            state=Job.State.FAILED, error_code=code[:40], error_message=message, finished_at=now, heartbeat_at=now
        )
        if changed:
            _finished([job_id])
    return bool(changed)


def _requeue(job_id: int, attempt: int, code: str, message: str) -> bool:
    """Give a transient failure another attempt, with exponential backoff before it is sent again."""
    with transaction.atomic():
        changed = _running(job_id, attempt).update(
            state=Job.State.QUEUED,
            stage="retrying",
            worker="",
            error_code=code[:40],
            error_message=message,
            queued_at=timezone.now(),
            dispatched_at=None,
        )
    if changed:
        job = Job.objects.only("engine").get(pk=job_id)
        backoff = min(300.0, float(getattr(settings, "SHOPVIDEO_RETRY_BACKOFF_SECONDS", 5.0)) * 2 ** (attempt - 1))
        _dispatch_one(job_id, job.engine, countdown=backoff)
    return bool(changed)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_job(*, job_id: int, worker_name: str = "") -> int | None:
    """One atomic UPDATE: queued → running with attempt + 1. Returns the attempt number, or None when there was
    nothing to claim (a duplicate delivery, a canceled or finished job)."""
    now = timezone.now()
    claimed = Job.objects.filter(id=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        attempt=F("attempt") + 1,
        worker=(worker_name or default_worker_name())[:200],
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        progress=0.0,
        stage="claimed",
        error_code="",
        error_message="",
    )
    if not claimed:
        return None
    return Job.objects.values_list("attempt", flat=True).get(pk=job_id)


def execute_job(*, job_id: int, worker_name: str = "") -> None:
    """Claim the job (a duplicate delivery finds nothing to claim), render it outside any transaction with a
    fenced progress callback, and commit the result exactly once."""
    # Every log line of the job carries its id, organization and attempt (shop_video.ops, JSON logs).
    with job_log_context(job_id=job_id):
        _execute_job(job_id=job_id, worker_name=worker_name)


def _execute_job(*, job_id: int, worker_name: str) -> None:
    attempt = claim_job(job_id=job_id, worker_name=worker_name)
    if attempt is None:
        logger.info("job %s: nothing to claim (already running, finished or canceled)", job_id)
        return
    job = Job.objects.select_related("photo__product", "market", "scene", "look").get(pk=job_id)
    set_job_log_fields(organization_id=job.organization_id, attempt=attempt)
    logger.info("job %s attempt %s claimed by %s", job_id, attempt, worker_name or default_worker_name())
    work_dir = _work_dir(job_id, attempt)
    try:
        with ProgressReporter(job_id, attempt) as reporter:
            try:
                result = render_job(job, work_dir, reporter)
            except JobCanceled:
                logger.info("job %s attempt %s stopped: canceled or superseded", job_id, attempt)
                return
            except BadInputError as exc:
                _fail(job_id, attempt, exc.code, exc.message)
                return
            except PipelineError as exc:
                if exc.transient and attempt < job.max_attempts:
                    _requeue(job_id, attempt, exc.code, exc.message)
                else:
                    _fail(job_id, attempt, exc.code, exc.message)
                return
            except Exception as exc:
                logger.exception("job %s attempt %s failed unexpectedly", job_id, attempt)
                close_old_connections()
                message = _("The video could not be made because of an internal error (%(kind)s).") % {
                    "kind": type(exc).__name__
                }
                if _is_timeout(exc) or attempt >= job.max_attempts:
                    _fail(job_id, attempt, "timeout" if _is_timeout(exc) else "internal_error", message)
                else:
                    _requeue(job_id, attempt, "internal_error", message)
                return
        try:
            committed = commit_result(job, attempt, result)
        except Exception as exc:
            _storage_failed(job, attempt, exc)
            return
        if committed:
            logger.info("job %s attempt %s committed its video", job_id, attempt)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            work_dir.parent.rmdir()  # only when no other attempt is working here
        dispatch_jobs_safely()


def _storage_failed(job: Job, attempt: int, exc: Exception) -> None:
    """Saving the result failed (storage down or full, or the database at commit): nothing half-written stays
    (the attempt's folder is this attempt's alone), and the job is retried, then fails with a clear code."""
    logger.exception("job %s attempt %s could not store its video", job.pk, attempt)
    close_old_connections()
    try:  # a commit that went through before the error keeps its files
        kept = Video.objects.filter(job_id=job.pk, attempt=attempt).exists()
    except DatabaseError:
        kept = True  # unknown: a later attempt's commit removes the files of every other attempt
    if not kept:
        _delete_tree(f"{_attempt_prefix(job)}/attempt-{attempt}")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        code, message = "storage_full", _("The video could not be stored: the storage is full.")
    elif isinstance(exc, DatabaseError):
        code = "internal_error"
        message = _("The video could not be saved because of an internal error (%(kind)s).") % {
            "kind": type(exc).__name__
        }
    else:
        code = "storage_unavailable"
        message = _("The video could not be stored: the storage did not accept it (%(kind)s).") % {
            "kind": type(exc).__name__
        }
    if attempt < job.max_attempts:
        _requeue(job.pk, attempt, code, message)
    else:
        _fail(job.pk, attempt, code, message)


def _is_timeout(exc: BaseException) -> bool:
    return type(exc).__name__ in {"SoftTimeLimitExceeded", "TimeLimitExceeded"}


def render_job(job: Job, work_dir: Path, reporter: ProgressReporter):
    from generation.market_services import caption_inputs
    from generation.pipeline.run import run_pipeline

    if work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    with job.photo.file.open("rb") as fh:
        photo_bytes = fh.read()
    caption = caption_inputs(product=job.photo.product, market=job.market) if job.captions else {}
    spec = _JobSpec(
        look_row=job.look,
        engine=job.engine,
        market=job.market.slug,
        scene=job.scene.slug,
        look=job.look.slug if job.look else None,
        aspect_ratio=job.aspect_ratio,
        resolution=job.resolution,
        seconds=float(job.seconds),
        fps=job.fps,
        seed=int(job.seed),
        product_title=job.photo.product.title,
        product_category=job.photo.product.category,
        captions=job.captions,
        caption_title=caption.get("caption_title", ""),
        price=caption.get("price") if job.caption_price else None,
        currency=caption.get("currency") if job.caption_price else None,
        cta=caption.get("cta") if job.caption_cta else "",  # None: the market's own call to action; "": none
        platform=job.platform or None,
    )
    reporter("prepare", 0.0)
    photo = job.photo
    result = run_pipeline(
        photo=photo_bytes,
        out_path=work_dir / "video.mp4",
        spec=spec,
        supplied_mask=_load_mask(photo),
        on_progress=reporter,
    )
    # The stored mask reaches the pipeline as a supplied one; whether its method was sure is the photo's to say.
    result.photo_cutout = photo_cutouts.render_report(photo)
    # On the final file (after every step that changes bytes): enforced only for a platform the merchant chose.
    result.export_check = export_report(result.video_path, spec.platform_slug, enforced=bool(job.platform))
    return result


# --- the reaper ---------------------------------------------------------------------------------------------------


@dataclass
class ReapReport:
    requeued: list[int] = field(default_factory=list)  # running jobs whose worker was lost, queued again
    failed: list[int] = field(default_factory=list)  # … with no attempts left
    resent: list[int] = field(default_factory=list)  # queued jobs sent to the broker again
    dispatched: int = 0  # waiting jobs sent by the fair dispatcher

    def __str__(self) -> str:
        return (
            f"requeued {len(self.requeued)}, failed {len(self.failed)}, resent {len(self.resent)}, "
            f"dispatched {self.dispatched}"
        )


def reap_jobs() -> ReapReport:
    """Requeue running jobs whose heartbeat went stale (or fail them when no attempt is left), re-send queued
    jobs the broker may have lost, and dispatch waiting jobs. Settings are read at call time."""
    report = ReapReport()
    now = timezone.now()
    stale_before = now - timedelta(seconds=float(settings.SHOPVIDEO_HEARTBEAT_STALE_SECONDS))
    stale = Job.objects.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    for job_id, attempt, max_attempts in stale.values_list("id", "attempt", "max_attempts"):
        fence = _running(job_id, attempt).filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
        if attempt < max_attempts:
            with transaction.atomic():
                if fence.update(state=Job.State.QUEUED, stage="requeued", worker="", queued_at=now, dispatched_at=None):
                    report.requeued.append(job_id)
        else:
            with transaction.atomic():
                if fence.update(
                    state=Job.State.FAILED,
                    error_code="worker_lost",
                    error_message=_("The worker making this video stopped responding on every attempt."),
                    finished_at=now,
                ):
                    report.failed.append(job_id)
                    _finished([job_id])
    resend_before = now - timedelta(seconds=float(settings.SHOPVIDEO_QUEUED_RESEND_SECONDS))
    lost = Job.objects.filter(state=Job.State.QUEUED, dispatched_at__lt=resend_before)
    for job_id, engine, sent_at in lost.values_list("id", "engine", "dispatched_at"):
        if Job.objects.filter(id=job_id, state=Job.State.QUEUED, dispatched_at=sent_at).update(dispatched_at=now):
            try:
                _send(job_id, engine)
                report.resent.append(job_id)
            except Exception:
                logger.exception("could not re-send job %s", job_id)
    report.dispatched = dispatch_jobs()
    if report.requeued or report.failed or report.resent:
        logger.info("reaper: %s", report)
    return report
