"""Reads (HackSoft styleguide: selectors read). Every function takes the organization first and never returns
another organization's rows; the `get_*` functions raise Http404 for a row of another organization, exactly as
for a row that does not exist, so ids of other tenants are never revealed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf
from django.http import Http404
from django.shortcuts import get_object_or_404

from generation.models import AudioTrack, Batch, Job, MarketPreset, ModelLook, Photo, Product, Scene, Video
from generation.pipeline.ai_label import LABEL_TEXT, label_text
from generation.presets import MARKETS_BY_SLUG

if TYPE_CHECKING:
    from shop_video.merchants.models import Organization


def _org_id(organization: Organization) -> int:
    org_id = getattr(organization, "pk", None)
    if org_id is None:
        raise Http404("no organization")
    return org_id


def products_for(organization: Organization) -> QuerySet[Product]:
    return (
        Product.objects.filter(organization_id=_org_id(organization))
        .annotate(photo_count=Count("photos", distinct=True))
        .order_by("-created_at", "-id")
    )


def get_product(organization: Organization, pk) -> Product:
    return get_object_or_404(products_for(organization), pk=_pk(pk))


def photos_for(organization: Organization, product: Product | None = None) -> QuerySet[Photo]:
    qs = Photo.objects.filter(organization_id=_org_id(organization)).select_related("product")
    if product is not None:
        qs = qs.filter(product_id=product.pk)
    return qs.order_by("created_at", "id")


def get_photo(organization: Organization, pk) -> Photo:
    return get_object_or_404(photos_for(organization), pk=_pk(pk))


def audio_tracks_for(organization: Organization) -> QuerySet[AudioTrack]:
    return AudioTrack.objects.filter(organization_id=_org_id(organization)).order_by("-created_at", "-id")


def get_audio_track(organization: Organization, pk) -> AudioTrack:
    return get_object_or_404(audio_tracks_for(organization), pk=_pk(pk))


_FINAL = [Job.State.SUCCEEDED, Job.State.FAILED, Job.State.CANCELED]


def batches_for(organization: Organization) -> QuerySet[Batch]:
    """Annotated: job_count, queued_count, running_count, succeeded_count, failed_count, canceled_count and
    progress (0..1: finished jobs count as 1, active ones by their own progress)."""
    counts = {f"{state}_count": Count("jobs", filter=Q(jobs__state=state)) for state in (s.value for s in Job.State)}
    progress_sum = Sum(
        Case(
            When(jobs__state__in=_FINAL, then=Value(1.0)),
            default=F("jobs__progress"),
            output_field=FloatField(),
        )
    )
    return (
        Batch.objects.filter(organization_id=_org_id(organization))
        .annotate(job_count=Count("jobs"), **counts, progress_sum=Coalesce(progress_sum, Value(0.0)))
        .annotate(
            progress=Coalesce(
                F("progress_sum") / NullIf(Cast("job_count", FloatField()), Value(0.0)),
                Value(0.0),
                output_field=FloatField(),
            )
        )
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def get_batch(organization: Organization, pk) -> Batch:
    return get_object_or_404(batches_for(organization), pk=_pk(pk))


def jobs_for(organization: Organization, batch: Batch | None = None) -> QuerySet[Job]:
    qs = Job.objects.filter(organization_id=_org_id(organization)).select_related(
        "photo", "photo__product", "market", "scene", "look", "batch"
    )
    if batch is not None:
        qs = qs.filter(batch_id=batch.pk)
    return qs.order_by("created_at", "id")


def get_job(organization: Organization, pk) -> Job:
    return get_object_or_404(jobs_for(organization), pk=_pk(pk))


def videos_for(organization: Organization) -> QuerySet[Video]:
    return (
        Video.objects.filter(organization_id=_org_id(organization))
        .select_related("job", "job__photo", "job__photo__product", "job__market", "job__scene")
        .order_by("-created_at", "-id")
    )


def get_video(organization: Organization, pk) -> Video:
    return get_object_or_404(videos_for(organization), pk=_pk(pk))


def _pk(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404("not found") from exc


# --- presets ------------------------------------------------------------------------------------------------------


def markets() -> QuerySet[MarketPreset]:
    """Markets the pipeline can render (built-in slugs), alphabetical by slug."""
    return MarketPreset.objects.filter(slug__in=list(MARKETS_BY_SLUG)).prefetch_related("scenes").order_by("slug")


def labelled_markets() -> list[tuple[str, str, dict[str, str]]]:
    """The markets whose rule draws the visible AI label: (slug, language, the label's text per engine), by slug."""
    return [
        (slug, preset.caption_language, {engine: label_text(engine, preset.caption_language) for engine in LABEL_TEXT})
        for slug, preset in sorted(MARKETS_BY_SLUG.items())
        if preset.ai_label
    ]


def scenes_for_market(market_slug: str) -> list[Scene]:
    """The market's scenes, its default scene (the preset's first) first."""
    market = MarketPreset.objects.filter(slug=market_slug).first()
    if market is None:
        return []
    scenes = {s.slug: s for s in market.scenes.all()}
    preset = MARKETS_BY_SLUG.get(market_slug)
    order = list(preset.scenes) if preset else []
    return [scenes[s] for s in order if s in scenes] + sorted(
        (s for slug, s in scenes.items() if slug not in order), key=lambda s: s.slug
    )


def all_scenes() -> QuerySet[Scene]:
    return Scene.objects.order_by("slug")


def looks_for(organization: Organization, market_slug: str) -> list[ModelLook]:
    """Built-in looks of the market plus the organization's own; an own look with a built-in's slug replaces it."""
    rows = (
        ModelLook.objects.filter(market__slug=market_slug)
        .filter(Q(organization__isnull=True) | Q(organization_id=_org_id(organization)))
        .select_related("market")
        .order_by("slug", F("organization").asc(nulls_first=True))
    )
    by_slug: dict[str, ModelLook] = {}
    for row in rows:
        by_slug[row.slug] = row
    return list(by_slug.values())


def own_look(organization: Organization, pk) -> ModelLook:
    """One of the organization's own looks (a built-in look or another organization's is a 404)."""
    return get_object_or_404(
        ModelLook.objects.select_related("market").filter(organization_id=_org_id(organization)), pk=_pk(pk)
    )


def looks_by_market(organization: Organization) -> list[tuple[MarketPreset, list[ModelLook]]]:
    """Per market (alphabetical by slug): the looks the organization chooses from, its own replacing a built-in
    look of the same slug; each row's `organization_id` says whose it is."""
    return [(market, looks_for(organization, market.slug)) for market in markets()]
