"""Credits per output second, by engine and resolution tier. Every surface prices through here."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings


class UnknownPriceError(ValueError):
    pass


def credits_per_second(engine: str, resolution: str) -> int:
    try:
        return int(settings.SHOPVIDEO_PRICING[engine][resolution])
    except KeyError as exc:
        raise UnknownPriceError(f"no price for engine {engine!r} at {resolution!r}") from exc


def credits_for_video(*, engine: str, resolution: str, seconds: float) -> int:
    """Whole credits; a started second is a second."""
    return credits_per_second(engine, resolution) * math.ceil(seconds)


@dataclass(frozen=True)
class Estimate:
    videos: int
    credits: int
    seconds: float


def estimate(variants: Iterable[tuple[str, str, float]]) -> Estimate:
    """variants: (engine, resolution, seconds) per video."""
    videos = 0
    credits = 0
    seconds = 0.0
    for engine, resolution, secs in variants:
        videos += 1
        seconds += secs
        credits += credits_for_video(engine=engine, resolution=resolution, seconds=secs)
    return Estimate(videos=videos, credits=credits, seconds=seconds)
