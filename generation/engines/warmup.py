"""DiT warm-up when a GPU worker's process starts.

Loading Wan VACE, compiling its blocks and letting cuDNN pick its kernels take minutes on a GPU host; without a
warm-up the first merchant's job pays for all of it (and its heartbeat and progress stand still meanwhile). The
worker process starts the warm-up in a thread, so Celery's start-up handshake is not held up; a job that arrives
meanwhile waits for it (generation.engines.dit_ready) instead of racing it for the GPU.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from generation.pipeline import layout
from generation.pipeline.errors import PipelineError
from generation.presets import MARKETS_BY_SLUG, SCENES_BY_SLUG, scene_palette
from shop_video.core import gpu_telemetry as gpu_report

from . import build_engine, dit_ready
from .base import RenderRequest

logger = logging.getLogger(__name__)


@dataclass
class WarmupReport:
    ok: bool
    load_seconds: float = 0.0
    size_seconds: dict[str, float] = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""


def parse_size(text: str) -> tuple[int, int, int]:
    """'480x832x81' → (width, height, frames)."""
    try:
        width, height, frames = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise ValueError(f"a warm-up size is WIDTHxHEIGHTxFRAMES, got {text!r}") from exc
    return width, height, frames


def _product() -> tuple[np.ndarray, np.ndarray]:
    """A plain box on white: the warm-up only needs the shapes and code paths of a real request."""
    photo = np.full((256, 192, 3), 255, np.uint8)
    mask = np.zeros((256, 192), np.uint8)
    mask[40:216, 48:144] = 255
    photo[mask > 0] = (180, 40, 40)
    return photo, mask


def _request(width: int, height: int, frames: int, steps: int) -> RenderRequest:
    photo, mask = _product()
    market = MARKETS_BY_SLUG["us"]
    scene = SCENES_BY_SLUG[market.scenes[0]]
    plan = layout.plan_layout(mask=mask, frame_size=(width, height), frames=frames, motion="pan", seed=0)
    return RenderRequest(
        photo_rgb=photo,
        mask=mask,
        layout=plan,
        width=width,
        height=height,
        fps=16,
        frames=frames,
        market=market,
        scene=scene,
        palette=scene_palette(market, scene),
        look=market.looks[0] if market.looks else None,
        product_title="warm-up",
        seed=0,
        steps=steps,
    )


def warm_up_dit(
    model_path: str | None = None, sizes: list[str] | None = None, steps: int | None = None
) -> WarmupReport:
    """Load the process's DiT engine and render each size once with a few steps; the frames are thrown away."""
    model_path = settings.SHOPVIDEO_MODEL_PATH if model_path is None else model_path
    sizes = list(settings.SHOPVIDEO_DIT_WARMUP_SIZES if sizes is None else sizes)
    steps = int(settings.SHOPVIDEO_DIT_WARMUP_STEPS if steps is None else steps)
    report = WarmupReport(ok=False)
    started = time.perf_counter()
    try:
        engine = build_engine("dit", model_path)
        report.load_seconds = round(time.perf_counter() - started, 3)
        for size in sizes:
            width, height, frames = parse_size(size)
            size_started = time.perf_counter()
            engine.render(_request(width, height, frames, steps))
            report.size_seconds[size] = round(time.perf_counter() - size_started, 3)
    except PipelineError as exc:
        # The worker stays up: its jobs then fail at once with the same code, which operators see per job too.
        report.error_code, report.error_message = exc.code, str(exc)
        logger.error("dit warm-up failed: %s: %s", exc.code, exc)
        return report
    except Exception as exc:  # a warm-up must never take the worker down; the first job will show the real error
        report.error_code, report.error_message = "warmup_failed", f"{type(exc).__name__}: {exc}"
        logger.exception("dit warm-up failed")
        return report
    finally:
        # The loaded model's memory shows in /metrics from now on, not only after the first job (no-op on CPU).
        gpu_report.publish_quietly()
    report.ok = True
    logger.info(
        "dit warm-up done: load %.1f s, %s",
        report.load_seconds,
        ", ".join(f"{size} in {seconds:.1f} s" for size, seconds in report.size_seconds.items()) or "no sizes",
    )
    return report


def start_in_background() -> threading.Thread | None:
    """Start the warm-up in a daemon thread if this worker is configured for it (SHOPVIDEO_DIT_WARMUP)."""
    if not settings.SHOPVIDEO_DIT_WARMUP:
        return None
    dit_ready.clear()

    def run() -> None:
        try:
            warm_up_dit()
        finally:
            dit_ready.set()

    thread = threading.Thread(target=run, name="dit-warmup", daemon=True)
    thread.start()
    return thread
