"""Platform presets and the export check: does an MP4 fit a platform's rules, and if not, which rule does it break.

Limits are the platforms' published upload rules for organic posts at the time of writing (2025), rounded to the
stricter side where sources differ; they change, so they are plain data here, one place to edit. Bitrate caps are
our delivery targets (platforms re-encode above them anyway). `ui_zones` are the parts of the frame the app's own
interface covers on a phone, as fractions of the frame (top, bottom, left, right), from the platforms' safe-zone
guides measured on 1080×1920 screenshots:
- TikTok: the tab bar (Following / For You) ~8% at the top; description, sound and the navigation bar ~20% at the
  bottom; the like / comment / share / profile column ~15% at the right; a 4% edge on the left.
- Instagram Reels: ~10% top (camera and title), ~22% bottom (caption, audio, buttons), ~14% right (actions).
- YouTube Shorts: ~8% top, ~20% bottom (title, channel, subscribe), ~15% right (actions).
- Feeds and players (Amazon, Shopify, YouTube, feed): no overlay while playing; a 5% title-safe margin, and the
  YouTube player's progress bar and controls at the bottom (~12%).
Captions keep out of these zones; the product may sit behind them (it is not text and is never cut by the frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from generation.presets import PLATFORM_ASPECTS, PLATFORM_SECONDS

MB = 1_000_000


@dataclass(frozen=True)
class UIZones:
    top: float
    bottom: float
    left: float
    right: float

    def safe_rect(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The frame area free of the platform's interface: x0, y0, x1, y1 (end exclusive), in pixels."""
        # Rounded inwards, so the safe area never reaches a pixel of a zone.
        return (
            math.ceil(self.left * width),
            math.ceil(self.top * height),
            width - math.ceil(self.right * width),
            height - math.ceil(self.bottom * height),
        )


@dataclass(frozen=True)
class PlatformPreset:
    slug: str
    name: str
    aspects: tuple[str, ...]  # accepted aspect ratios, "w:h"
    seconds: tuple[int, ...]  # default lengths
    resolution_min: int  # shorter side, pixels
    resolution_max: int  # longer side, pixels
    fps_min: float
    fps_max: float
    duration_min: float  # seconds
    duration_max: float
    bitrate_max: int  # bits per second, whole file
    file_size_max: int  # bytes
    ui_zones: UIZones
    codecs: tuple[str, ...] = ("h264",)
    containers: tuple[str, ...] = ("mp4", "mov")


_TITLE_SAFE = UIZones(0.05, 0.05, 0.05, 0.05)


def _preset(slug: str, name: str, **kw) -> PlatformPreset:
    return PlatformPreset(slug=slug, name=name, aspects=PLATFORM_ASPECTS[slug], seconds=PLATFORM_SECONDS[slug], **kw)


PLATFORMS: dict[str, PlatformPreset] = {
    p.slug: p
    for p in (
        _preset(
            "tiktok",
            "TikTok",
            resolution_min=480,
            resolution_max=4096,
            fps_min=10,
            fps_max=60,
            duration_min=1,
            duration_max=600,
            bitrate_max=25 * MB,
            file_size_max=287 * MB,
            ui_zones=UIZones(top=0.08, bottom=0.20, left=0.04, right=0.15),
        ),
        _preset(
            "reels",
            "Instagram Reels",
            resolution_min=480,
            resolution_max=1920,
            fps_min=10,
            fps_max=60,
            duration_min=3,
            duration_max=180,
            bitrate_max=25 * MB,
            file_size_max=4000 * MB,
            ui_zones=UIZones(top=0.10, bottom=0.22, left=0.04, right=0.14),
        ),
        _preset(
            "shorts",
            "YouTube Shorts",
            resolution_min=480,
            resolution_max=4096,
            fps_min=10,
            fps_max=60,
            duration_min=1,
            duration_max=180,
            bitrate_max=40 * MB,
            file_size_max=256_000 * MB,
            ui_zones=UIZones(top=0.08, bottom=0.20, left=0.04, right=0.15),
        ),
        _preset(
            "amazon",
            "Amazon listing",
            resolution_min=480,
            resolution_max=3840,
            fps_min=10,
            fps_max=60,
            duration_min=1,
            duration_max=300,
            bitrate_max=25 * MB,
            file_size_max=5000 * MB,
            ui_zones=_TITLE_SAFE,
        ),
        _preset(
            "shopify",
            "Shopify product media",
            resolution_min=240,
            resolution_max=4096,
            fps_min=10,
            fps_max=60,
            duration_min=1,
            duration_max=600,
            bitrate_max=25 * MB,
            file_size_max=1000 * MB,
            ui_zones=_TITLE_SAFE,
        ),
        _preset(
            "youtube",
            "YouTube",
            resolution_min=360,
            resolution_max=7680,
            fps_min=10,
            fps_max=60,
            duration_min=1,
            duration_max=43_200,
            bitrate_max=68 * MB,
            file_size_max=256_000 * MB,
            ui_zones=UIZones(top=0.05, bottom=0.12, left=0.05, right=0.05),
        ),
        _preset(
            "feed",
            "Social feed (4:5)",
            resolution_min=480,
            resolution_max=1920,
            fps_min=10,
            fps_max=60,
            duration_min=1,
            duration_max=3600,
            bitrate_max=25 * MB,
            file_size_max=4000 * MB,
            ui_zones=_TITLE_SAFE,
        ),
    )
}

# Our frame sizes are multiples of 16 (480×832 for 9:16 is 0.577, not 0.5625): accept 3% either way, as the
# platforms do (they letterbox or crop a few pixels rather than refuse).
ASPECT_TOLERANCE = 0.03


def platform_for(aspect_ratio: str, platforms: tuple[str, ...] | list[str]) -> str:
    """The first of `platforms` that takes `aspect_ratio`; else the first platform of any kind that does."""
    for slug in platforms:
        if slug in PLATFORMS and aspect_ratio in PLATFORMS[slug].aspects:
            return slug
    for slug, preset in PLATFORMS.items():
        if aspect_ratio in preset.aspects:
            return slug
    return "feed"


@dataclass(frozen=True)
class RuleViolation:
    rule: str  # codec, container, aspect_ratio, resolution_min, resolution_max, frame_rate, duration_min,
    #            duration_max, bitrate_max, file_size_max
    message: str
    actual: float | str
    limit: float | str


@dataclass(frozen=True)
class VideoFacts:
    container: str
    codec: str
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    size_bytes: int

    @property
    def bitrate(self) -> float:
        return self.size_bytes * 8 / self.duration if self.duration > 0 else float("inf")


def probe(video_path: str | Path) -> VideoFacts:
    """Measure the file itself (PyAV): container, codec, size, frame rate, frames and duration as decoded."""
    path = Path(video_path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(0)
        frames = sum(1 for _ in container.demux(stream) if _.size)  # packets with data: one per frame for H.264
        fps = float(rate)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = frames / fps if fps else 0.0
        formats = set(container.format.name.split(","))
        return VideoFacts(
            container="mp4" if "mp4" in formats else sorted(formats)[0],
            codec=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=fps,
            frames=frames,
            duration=duration,
            size_bytes=path.stat().st_size,
        )


def _aspect_matches(width: int, height: int, aspect: str) -> bool:
    w, h = (int(v) for v in aspect.split(":"))
    return abs((width / height) / (w / h) - 1.0) <= ASPECT_TOLERANCE


def check_export(video_path: str | Path, platform: str | PlatformPreset) -> list[RuleViolation]:
    """Every rule of `platform` the video at `video_path` breaks; empty when it may be uploaded as it is."""
    preset = PLATFORMS[platform] if isinstance(platform, str) else platform
    facts = probe(video_path)
    out: list[RuleViolation] = []

    def fail(rule: str, message: str, actual, limit) -> None:
        out.append(RuleViolation(rule, f"{preset.name}: {message}", actual, limit))

    if facts.container not in preset.containers:
        fail(
            "container",
            f"container {facts.container} is not one of {', '.join(preset.containers)}",
            facts.container,
            ",".join(preset.containers),
        )
    if facts.codec not in preset.codecs:
        fail(
            "codec",
            f"codec {facts.codec} is not one of {', '.join(preset.codecs)}",
            facts.codec,
            ",".join(preset.codecs),
        )
    if not any(_aspect_matches(facts.width, facts.height, a) for a in preset.aspects):
        fail(
            "aspect_ratio",
            f"{facts.width}×{facts.height} is not {' or '.join(preset.aspects)}",
            f"{facts.width}:{facts.height}",
            ",".join(preset.aspects),
        )
    short, long = sorted((facts.width, facts.height))
    if short < preset.resolution_min:
        fail(
            "resolution_min",
            f"shorter side {short} px is below {preset.resolution_min} px",
            short,
            preset.resolution_min,
        )
    if long > preset.resolution_max:
        fail(
            "resolution_max", f"longer side {long} px is above {preset.resolution_max} px", long, preset.resolution_max
        )
    if not (preset.fps_min <= facts.fps <= preset.fps_max):
        fail(
            "frame_rate",
            f"{facts.fps:g} fps is outside {preset.fps_min:g}–{preset.fps_max:g} fps",
            facts.fps,
            f"{preset.fps_min:g}-{preset.fps_max:g}",
        )
    if facts.duration < preset.duration_min:
        fail(
            "duration_min",
            f"{facts.duration:.2f} s is shorter than {preset.duration_min:g} s",
            facts.duration,
            preset.duration_min,
        )
    if facts.duration > preset.duration_max:
        fail(
            "duration_max",
            f"{facts.duration:.2f} s is longer than {preset.duration_max:g} s",
            facts.duration,
            preset.duration_max,
        )
    if facts.bitrate > preset.bitrate_max:
        fail(
            "bitrate_max",
            f"{facts.bitrate / MB:.1f} Mbit/s is above {preset.bitrate_max / MB:g} Mbit/s",
            facts.bitrate,
            preset.bitrate_max,
        )
    if facts.size_bytes > preset.file_size_max:
        fail(
            "file_size_max",
            f"{facts.size_bytes / MB:.1f} MB is above {preset.file_size_max / MB:g} MB",
            facts.size_bytes,
            preset.file_size_max,
        )
    return out


def _json_number(value: float | str) -> float | str | None:
    if isinstance(value, str):
        return value
    return round(float(value), 3) if math.isfinite(value) else None


def export_report(video_path: str | Path, platform: str, *, enforced: bool) -> dict:
    """`check_export` as JSON for the Video's metadata, the API and the dashboard: which platform, whether its rules
    were enforced (the merchant chose it) or only reported, and every rule the file breaks."""
    violations = check_export(video_path, platform)
    return {
        "platform": platform,
        "enforced": enforced,
        "passed": not violations,
        "violations": [
            {"rule": v.rule, "message": v.message, "actual": _json_number(v.actual), "limit": _json_number(v.limit)}
            for v in violations
        ],
    }
