"""The whole pipeline for one video: ingest → cutout → plan (layout, captions, AI label) → engine.render → fidelity lock
→ captions and label → encode → QA → content credentials → export check.

`make_video` and the Celery workers both call `run_pipeline`; nothing here touches the database.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
from django.conf import settings
from PIL import Image

from generation.engines import RenderRequest, get_engine, model_sizes
from generation.presets import scene_palette

from . import ai_label, captions, credentials, cutout, encode, fidelity, ingest, platforms, qa
from .plan import Planner
from .spec import VariantSpec

# Share of the job's progress bar each stage takes (the render dominates).
_PROGRESS = {"prepare": 0.05, "render": 0.80, "encode": 0.10, "qa": 0.05}

FIRST_ATTEMPT_SHARE = 0.98
ProgressHook = Callable[[str, float], None]  # (stage, overall fraction 0..1); may raise JobCanceled


@dataclass
class PipelineResult:
    video_path: Path
    poster_path: Path
    preview_path: Path
    mask_path: Path
    json_path: Path
    spec: VariantSpec
    width: int
    height: int
    fps: int
    frames: int
    photo_size: tuple[int, int]
    placements: np.ndarray
    qa: qa.QAReport
    qa_passed: bool
    seed_used: int
    motion: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed over attempts; "total"
    mask_source: str = ""
    attempts: int = 1  # how many renders QA needed (or tried, when it never passed)
    captions: dict | None = None  # the caption overlay's content and geometry, when captions were on
    ai_label: dict | None = None  # the visible AI label's text and place, when the market's rule asks for it
    credentials: dict | None = None  # the C2PA content credentials: signed, signer, verified (credentials.py)
    gpu: dict | None = None  # the render's peak GPU memory and device (DiT on CUDA); None on CPU and the compositor
    fidelity: dict | None = None  # the layout's product fill and the PSNR 4:2:0 allows it (FidelityForecast)
    dit: dict | None = None  # the DiT's preset, steps, flow shift, cache and clips; None for other engines

    cutout: dict | None = None  # the cutout's method, confidence and needs_review
    # The platform's export rules checked on the final file (platforms.export_report); kept beside OUT.json's contract
    export_check: dict | None = None

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.fps

    def contract(self) -> dict:
        """OUT.json: the fields of the output contract, then our additions."""
        return {
            "engine": self.spec.engine,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frames": self.frames,
            "photo_size": list(self.photo_size),
            "placements": [[[float(v) for v in row] for row in p] for p in self.placements],
            "qa": self.qa.summary(),
            "qa_passed": self.qa_passed,
            "attempts": self.attempts,
            "market": self.spec.market,
            "scene": self.spec.scene_preset.slug,
            "look": self.spec.look,
            "aspect_ratio": self.spec.aspect_ratio,
            "resolution": self.spec.resolution,
            "seconds": self.spec.seconds,
            "seed": self.seed_used,
            "motion": self.motion,
            "mask_source": self.mask_source,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "platform": self.spec.platform_slug,
            "captions": self.captions,
            "ai_label": self.ai_label,
            "credentials": self.credentials,
            "gpu": self.gpu,
            "fidelity": self.fidelity,
            **({"dit": self.dit} if self.dit is not None else {}),
            "cutout": self.cutout,
        }


def _dit_summary(engine) -> dict | None:
    """OUT.json's "dit": how the DiT made the latest render (the contract's fields first)."""
    render = getattr(engine, "last_render", None)
    if not render:
        return None
    keys = ("preset", "steps", "flow_shift", "cache", "clips")
    return {**{k: render[k] for k in keys}, **{k: v for k, v in render.items() if k not in keys}}


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def sibling(out_path: Path, suffix: str) -> Path:
    """OUT.mp4 → OUT.mask.png, OUT.json, …"""
    return out_path.with_name(out_path.name.removesuffix(out_path.suffix) + suffix)


OUTPUT_SUFFIXES = (".mask.png", ".poster.jpg", ".preview.mp4", ".json")


class _Outputs:
    """Outputs written under temporary names beside OUT.mp4 and renamed into place only when all exist, so a run
    that fails (bad input, a crash, a cancel) never leaves a half-written OUT.mp4 behind."""

    def __init__(self, out_path: Path, tag: str) -> None:
        self.final = {"": out_path, **{suffix: sibling(out_path, suffix) for suffix in OUTPUT_SUFFIXES}}
        self.temp = {k: v.with_name(f".{v.name}.{tag}.part") for k, v in self.final.items()}

    def discard(self) -> None:
        for path in self.temp.values():
            path.unlink(missing_ok=True)

    def commit(self) -> None:
        # Companions first, the video last: an OUT.mp4 that exists is a finished one.
        for key in (*OUTPUT_SUFFIXES, ""):
            os.replace(self.temp[key], self.final[key])


def run_pipeline(
    *,
    photo: str | Path | bytes | IO[bytes],
    out_path: str | Path,
    spec: VariantSpec,
    supplied_mask: np.ndarray | None = None,
    guide: cutout.CutoutGuide | None = None,
    mask_needs_review: bool = False,
    on_progress: ProgressHook | None = None,
    qa_retries: int = 1,
) -> PipelineResult:
    """Make one video. Raises PipelineError (with a stable `code`) for bad input; writes nothing then.

    `guide` (a box and strokes) makes the cutout guided. A cutout that needs review (its confidence is below its
    method's threshold, or `mask_needs_review`: the supplied mask is an automatic cutout nobody checked yet) never
    passes QA: the video is made, and held for a person to look at.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    progress = on_progress or (lambda stage, fraction: None)
    timer = _Timer()
    started = time.perf_counter()

    progress("ingest", 0.0)
    with timer.stage("ingest"):
        photo_in = ingest.ingest_photo(photo)
    with timer.stage("cutout"):
        cut = cutout.compute_cutout(photo_in, supplied_mask, guide=guide)
    needs_review = cut.needs_review or mask_needs_review
    progress("cutout", _PROGRESS["prepare"])

    model_path = spec.model_path or settings.SHOPVIDEO_MODEL_PATH
    if spec.engine == "dit":
        # Before the model loads: a size the model was not trained for is refused, never rendered.
        model_sizes.check_resolution(model_path, spec.resolution)
    engine = get_engine(spec.engine, model_path)
    planner = Planner(spec, photo_in.rgb, cut.mask)
    market, scene = spec.market_preset, spec.scene_preset
    attempts = max(1, 1 + qa_retries)
    # The first attempt fills the bar up to FIRST_ATTEMPT_SHARE: a QA retry is the exception, and a bar that halts
    # at half way for every video (as an equal share per possible attempt did) misleads. Retries use the rest,
    # each half of what remains, so the bar never runs backwards.
    starts, shares = [0.0], [FIRST_ATTEMPT_SHARE]
    for _ in range(1, attempts):
        starts.append(starts[-1] + shares[-1])
        shares.append((1.0 - starts[-1]) / 2.0)
    best: tuple[PipelineResult, _Outputs] | None = None
    gpu: dict | None = None  # the highest peak over the attempts' renders
    renders = 0
    try:
        for attempt in range(attempts):
            seed = spec.seed + attempt
            outputs = _Outputs(out_path, f"{os.getpid()}-{uuid.uuid4().hex[:8]}")

            def report(stage: str, fraction: float, attempt: int = attempt) -> None:
                progress(stage, min(1.0, starts[attempt] + shares[attempt] * max(0.0, min(1.0, fraction))))

            with timer.stage("layout"):
                plan = planner.plan(seed)
            if best is not None and plan.predicted_psnr < settings.SHOPVIDEO_QA_MIN_PSNR:
                # Another seed cannot help a product that 4:2:0 cannot carry at this size: no render wasted on it.
                break
            base = _PROGRESS["prepare"]

            def render_progress(fraction: float, base: float = base, report=report) -> None:
                report("render", base + _PROGRESS["render"] * max(0.0, min(1.0, fraction)))

            request = RenderRequest(
                photo_rgb=photo_in.rgb,
                mask=cut.mask,
                layout=plan.layout,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                frames=spec.frames,
                market=market,
                scene=scene,
                palette=scene_palette(market, scene),
                look=spec.look_preset,
                product_title=spec.product_title,
                product_category=spec.product_category,
                seed=seed,
                steps=spec.steps,
                on_progress=render_progress,
            )
            try:
                with timer.stage("render"):
                    frames = engine.render(request)
                renders += 1
                rendered_gpu = getattr(engine, "last_gpu", None)
                if rendered_gpu and (gpu is None or rendered_gpu["peak_allocated_bytes"] > gpu["peak_allocated_bytes"]):
                    gpu = rendered_gpu
                with timer.stage("fidelity"):
                    # Engines may draw the product themselves; the lock makes it the merchant's pixels regardless.
                    layers = fidelity.lock_frames(frames, photo_in.rgb, cut.mask, plan.layout.placements, cut.matte)
                if plan.captions is not None:
                    with timer.stage("captions"):
                        # After the lock, outside the product's box (check_clear): the product stays exact.
                        captions.draw_captions(frames, plan.captions)
                if plan.ai_label is not None:
                    ai_label.draw_label(frames, plan.ai_label)  # before the poster is taken: both carry it
                report("encode", _PROGRESS["prepare"] + _PROGRESS["render"])
                with timer.stage("encode"):
                    encode.encode_mp4(frames, outputs.temp[""], fps=spec.fps, layers=layers)
                    encode.write_poster(frames[len(frames) // 2], outputs.temp[".poster.jpg"])
                    encode.write_preview(frames, outputs.temp[".preview.mp4"], fps=spec.fps)
                    Image.fromarray(cut.mask).save(outputs.temp[".mask.png"], "PNG")
                del frames, layers
                report("qa", 1.0 - _PROGRESS["qa"])
                with timer.stage("qa"):
                    report_qa = qa.measure_video(outputs.temp[""], photo_in.rgb, cut.mask, plan.layout.placements)
            except BaseException:
                outputs.discard()
                raise
            qa_ok = report_qa.passes(settings.SHOPVIDEO_QA_MIN_PSNR, settings.SHOPVIDEO_QA_MIN_SSIM)
            passed = qa_ok and not needs_review
            result = PipelineResult(
                video_path=out_path,
                poster_path=outputs.final[".poster.jpg"],
                preview_path=outputs.final[".preview.mp4"],
                mask_path=outputs.final[".mask.png"],
                json_path=outputs.final[".json"],
                spec=spec,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                frames=spec.frames,
                photo_size=photo_in.size,
                placements=plan.layout.placements,
                qa=report_qa,
                qa_passed=passed,
                seed_used=seed,
                motion=plan.layout.motion,
                timings=timer.timings,
                mask_source=cut.source,
                attempts=attempt + 1,
                captions=plan.captions.summary() if plan.captions else None,
                ai_label=plan.ai_label.summary() if plan.ai_label else None,
                fidelity=plan.fidelity_summary(),
                dit=_dit_summary(engine),
                cutout={"method": cut.method, "confidence": cut.confidence, "needs_review": needs_review},
            )
            if best is None or report_qa.psnr_min > best[0].qa.psnr_min:
                if best is not None:
                    best[1].discard()
                best = (result, outputs)
            else:
                outputs.discard()
            if qa_ok:  # another render cannot make an unsure cutout sure
                break
        assert best is not None
        result, outputs = best
        result.attempts = renders if not result.qa_passed else result.attempts
        result.gpu = gpu
        with timer.stage("credentials"):
            # Last, on the final bytes and after QA decoded them: signing adds a C2PA box (MP4) or segment (JPEG)
            # and leaves the pictures bit for bit as they were; any later re-encode would drop the credentials.
            result.credentials = credentials.sign_video(
                outputs.temp[""],
                outputs.temp[".poster.jpg"],
                preview_path=outputs.temp[".preview.mp4"],
                engine=spec.engine,
                source_photo_sha256=photo_in.checksum,
                market=spec.market,
                ai_label=result.ai_label is not None,
            )
        # On the final bytes, after every step that changes them: enforced only for a platform the merchant chose,
        # otherwise reported.
        result.export_check = platforms.export_report(
            outputs.temp[""], spec.platform_slug, enforced=spec.platform is not None
        )
        timer.timings["total"] = time.perf_counter() - started
        outputs.temp[".json"].write_text(json.dumps(result.contract(), indent=1))
        outputs.commit()
    except BaseException:
        if best is not None:
            best[1].discard()
        raise
    progress("done", 1.0)
    return result
