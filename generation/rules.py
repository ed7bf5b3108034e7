"""Product rules the API, the dashboard and the import share, in one place each: the default engine, a market's
aspect ratios, which videos are delivered, a batch's progress, the caption languages a title may be given in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings

from generation.market_services import caption_languages
from generation.models import Batch, Job, Product, Video
from generation.presets import PLATFORM_ASPECTS

DEFAULT_ASPECT_RATIO = "9:16"
# A video a merchant may download and publish: passed QA, or approved after review.
DELIVERED_REVIEWS = (Video.Review.READY, Video.Review.APPROVED)


def default_engine() -> str:
    """The engine a request that names none gets."""
    return str(getattr(settings, "SHOPVIDEO_DEFAULT_ENGINE", "compositor"))


def market_aspect_ratios(platforms: Iterable[str]) -> list[str]:
    """The aspect ratios of the market's platforms, each once in the platforms' order; 9:16 when none has any."""
    seen: list[str] = []
    for platform in platforms or ():
        for aspect in PLATFORM_ASPECTS.get(platform, ()):
            if aspect not in seen:
                seen.append(aspect)
    return seen or [DEFAULT_ASPECT_RATIO]


def is_delivered(video: Video) -> bool:
    """Only a delivered video has download and poster links."""
    return video.review in DELIVERED_REVIEWS


@dataclass(frozen=True)
class BatchProgress:
    counts: dict[str, int]  # jobs per state, every state present
    progress: float  # 0..1: finished jobs count 1, active ones their own progress

    @property
    def job_count(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> bool:
        """No job is queued or running."""
        return self.counts[Job.State.QUEUED] + self.counts[Job.State.RUNNING] == 0


def batch_progress(batch: Batch) -> BatchProgress:
    """From the annotations of generation.selectors.batches_for when present, else from the batch's jobs."""
    if hasattr(batch, "queued_count"):
        counts = {s: int(getattr(batch, f"{s}_count")) for s in Job.State.values}
    else:
        counts = dict.fromkeys(Job.State.values, 0)
        for state in batch.jobs.values_list("state", flat=True):
            counts[state] += 1
    if hasattr(batch, "progress"):
        progress = round(float(batch.progress or 0.0), 4)
    else:
        jobs = list(batch.jobs.values_list("state", "progress"))
        progress = round(sum(1.0 if s in Job.FINAL_STATES else p for s, p in jobs) / len(jobs), 4) if jobs else 1.0
    return BatchProgress(counts=counts, progress=progress)


def unknown_title_languages(titles: Mapping[str, object], product: Product | None = None) -> list[str]:
    """The languages of `titles` no market captions in; removing (None) a language the product already has is
    always allowed, so an old title can be cleaned up."""
    known = caption_languages()
    existing = set(product.localizations.values_list("language", flat=True)) if product is not None else set()
    return [lang for lang, value in titles.items() if lang not in known and not (value is None and lang in existing)]


# The fields of an ad's shot the API and the dashboard show (and read back from an edited storyboard); the
# per-frame placements stay on the server, where the worker renders them as planned.
PUBLIC_SHOT_FIELDS = ("kind", "photo", "start", "end", "motion", "scene", "look", "seed", "transition_in", "window")


def public_storyboard(stored: dict | None) -> dict | None:
    """A job's (or an estimate's) storyboard as shown: everything but the shots' placements; `photo` of a shot is
    its index in `photo_ids`."""
    if not stored:
        return None
    shown = {k: v for k, v in stored.items() if k != "shots"}
    shown["shots"] = [{k: shot.get(k) for k in PUBLIC_SHOT_FIELDS} for shot in stored.get("shots", [])]
    return shown


@dataclass(frozen=True)
class ShotQA:
    """One shot of a finished ad as its video page shows it: what it is, how long, whether its product is exact."""

    number: int
    kind: str
    frames: int
    exact: bool | None  # None: nothing measured (no product promised in the shot)
    qa: dict | None  # the figures: psnr_min, psnr_mean, ssim_min, flicker, edge_iou, frames


def ad_shots_qa(video: Video) -> list[ShotQA]:
    """The per-shot QA the worker stored with an ad's video; a shot is exact when its worst frame clears the same
    bar as a single video's (`SHOPVIDEO_QA_MIN_PSNR`, `SHOPVIDEO_QA_MIN_SSIM`). Empty for a single video."""
    out = []
    for i, shot in enumerate((video.metadata or {}).get("shots") or [], start=1):
        qa = shot.get("qa") or None
        exact = None
        if qa and qa.get("psnr_min") is not None and qa.get("ssim_min") is not None:
            exact = (
                qa["psnr_min"] >= settings.SHOPVIDEO_QA_MIN_PSNR and qa["ssim_min"] >= settings.SHOPVIDEO_QA_MIN_SSIM
            )
        frames = (qa or {}).get("frames") or max(0, int(shot.get("end", 0)) - int(shot.get("start", 0)))
        out.append(ShotQA(i, str(shot.get("kind", "")), int(frames), exact, qa))
    return out
