"""The variant matrix, its validation and pricing, and batch creation."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import pricing
from billing.services import ledger
from generation import photo_cutouts, rules
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
from generation.models import Batch, Job, MarketPreset, ModelLook, Photo, Product, Scene
from generation.pipeline.platforms import PLATFORMS
from generation.presets import MARKETS_BY_SLUG
from generation.services.dispatch import dispatch_jobs_safely
from generation.services.errors import MatrixInvalid
from generation.services.signals import batch_submitted

if TYPE_CHECKING:
    from shop_video.merchants.models import Organization


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
    return rules.market_aspect_ratios(market.platforms or [])


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


@dataclass(frozen=True)
class PriceLine:
    """The videos of one engine, market, format and duration: every scene, look and photo in it."""

    engine: str
    market: str  # slug
    market_name: str
    aspect_ratio: str
    resolution: str
    seconds: int
    videos: int
    credits_each: int

    @property
    def credits(self) -> int:
        return self.videos * self.credits_each


@dataclass(frozen=True)
class BatchEstimate:
    """The price of a batch and the lines that make it up (markets × formats × durations, per engine)."""

    videos: int
    credits: int
    seconds: float
    lines: tuple[PriceLine, ...] = ()

    @property
    def by_engine(self) -> list[tuple[str, list[PriceLine], int, int]]:
        """(engine, its lines, its videos, its credits), engines in the order they first appear."""
        groups: dict[str, list[PriceLine]] = {}
        for line in self.lines:
            groups.setdefault(line.engine, []).append(line)
        return [(e, ls, sum(x.videos for x in ls), sum(x.credits for x in ls)) for e, ls in groups.items()]


def price_lines(variants: Sequence[_Variant], photo_count: int) -> tuple[PriceLine, ...]:
    """One line per (engine, market, aspect ratio, resolution, duration), in the matrix's order."""
    counts: dict[tuple, int] = {}
    names: dict[str, str] = {}
    for v in variants:
        key = (v.engine, v.market.slug, v.aspect_ratio, v.resolution, v.seconds)
        counts[key] = counts.get(key, 0) + photo_count
        names[v.market.slug] = v.market.name
    return tuple(
        PriceLine(
            engine=engine,
            market=market,
            market_name=names[market],
            aspect_ratio=aspect,
            resolution=resolution,
            seconds=seconds,
            videos=videos,
            credits_each=pricing.credits_for_video(engine=engine, resolution=resolution, seconds=seconds),
        )
        for (engine, market, aspect, resolution, seconds), videos in counts.items()
        if videos
    )


def estimate_batch(*, organization: Organization, photos: Sequence[Photo], matrix: VariantMatrix) -> BatchEstimate:
    photos = _check_photos(organization, photos)
    variants = _expand(organization=organization, matrix=matrix, photo_count=len(photos))
    _check_caption_prices(photos, matrix)
    total = pricing.estimate((v.engine, v.resolution, v.seconds) for _p in photos for v in variants)
    return BatchEstimate(
        videos=total.videos, credits=total.credits, seconds=total.seconds, lines=price_lines(variants, len(photos))
    )


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
        # Credits: reserved under the account's row lock; InsufficientCredits rolls the batch back.
        ledger.reserve_jobs(organization=organization, credits_by_job={j.pk: j.credits for j in jobs})
        transaction.on_commit(lambda: batch_submitted.send(sender=Batch, batch=batch, jobs=jobs))
        transaction.on_commit(dispatch_jobs_safely)
    return batch
