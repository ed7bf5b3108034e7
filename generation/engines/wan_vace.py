"""The DiT engine: Wan2.1 VACE through diffusers' `WanVACEPipeline`, a thin adapter (no fork).

The pipeline is loaded once per worker process from a local diffusers folder (settings.SHOPVIDEO_MODEL_PATH or
`--model-path`) and kept warm: bf16 on CUDA (the VAE in float32), float32 on CPU for the tests' tiny model.
Conditioning (product pixels kept through the mask, the product as reference image, pose or gray control) is
built by generation.pipeline.conditions; the fidelity lock and QA run after this engine as for every engine.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The engine never talks to a model hub; huggingface_hub reads this when it is first imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from diffusers import UniPCMultistepScheduler, WanVACEPipeline
from django.conf import settings
from PIL import Image

from generation.pipeline.conditions import VaceConditions, build_conditions
from generation.pipeline.errors import BadInputError, ModelUnavailableError, PipelineError

from .base import RenderRequest
from .clips import MAX_CLIP_FRAMES, Clip, extend_with_context, plan_clips
from .vace_cache import VaceStepCacheConfig, apply_vace_step_cache

logger = logging.getLogger(__name__)

DEFAULT_STEPS = 30
# The official VACE inference's defaults (settings override them): Wan-Video/Wan2.1 `generate.py` `_validate_args`
# sets `sample_shift = 16` for "vace" (and flf2v) tasks at every size, where t2v gets 5 and 480p i2v 3;
# ali-vilab/VACE `vace/vace_wan_inference.py` `validate_args` also defaults `sample_shift` to 16. Guidance: both
# scripts' `--sample_guide_scale` default, 5.0.
OFFICIAL_FLOW_SHIFT = 16.0
OFFICIAL_GUIDANCE_SCALE = 5.0
REQUIRED_COMPONENTS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
WEIGHTED_COMPONENTS = ("transformer", "vae", "text_encoder")


class DegenerateOutputError(PipelineError):
    """The model returned NaN or all-black frames (e.g. bf16 overflow): QA must never see them as a video."""

    code = "degenerate_output"


class GpuOutOfMemoryError(PipelineError):
    """CUDA ran out of memory even with CPU offload and VAE tiling: the job is too large for this GPU."""

    code = "gpu_out_of_memory"


@dataclass(frozen=True)
class DitOptions:
    """Speed options. Attention backend and compilation apply on CUDA; the step cache applies on every device."""

    name: str = "vanilla"
    attention: str = "native"  # diffusers attention backend: native, _native_cudnn, _native_flash, _native_efficient
    compile: bool = False  # torch.compile of the transformer's repeated blocks (regional compilation)
    cache: str = "none"  # none, or vace_step (generation.engines.vace_cache: skips whole steps, hints included)
    cache_threshold: float = 0.05  # accumulated relative L1 change of the first block's modulated input
    cache_warmup_steps: int = 3  # per guidance branch, always computed
    cache_max_skips: int = 2  # skipped steps in a row at most


# settings.SHOPVIDEO_DIT_QUALITY picks one. "max" is bit-for-bit the uncached model; "balanced" and "fast" skip
# steps whose input barely changed, reusing the whole block stack's residual (the VACE hints included).
QUALITY_PRESETS: dict[str, DitOptions] = {
    "vanilla": DitOptions(),
    "max": DitOptions(name="max", attention="_native_cudnn", compile=True),
    "balanced": DitOptions(
        name="balanced", attention="_native_cudnn", compile=True, cache="vace_step", cache_threshold=0.05
    ),
    "fast": DitOptions(name="fast", attention="_native_cudnn", compile=True, cache="vace_step", cache_threshold=0.1),
}


def options_for(quality: str, device: torch.device) -> DitOptions:
    """The settings' preset on CUDA. On CPU the uncached model unless a preset is passed to the engine explicitly
    (tests and benchmarks do): the CPU runs only the tests' tiny model, where exact outputs matter more."""
    if quality not in QUALITY_PRESETS:
        raise ValueError(f"unknown DiT quality {quality!r}; choose one of {', '.join(QUALITY_PRESETS)}")
    return QUALITY_PRESETS[quality] if device.type == "cuda" else QUALITY_PRESETS["vanilla"]


def flow_shift_for(width: int, height: int) -> float:
    """The sampler's flow shift: the official VACE value at every size unless settings say otherwise."""
    return float(getattr(settings, "SHOPVIDEO_DIT_FLOW_SHIFT", OFFICIAL_FLOW_SHIFT))


def guidance_scale() -> float:
    return float(getattr(settings, "SHOPVIDEO_DIT_GUIDANCE_SCALE", OFFICIAL_GUIDANCE_SCALE))


def validate_model_folder(model_path: str | os.PathLike | None) -> Path:
    """Fail at once, with code model_unavailable, on a missing or incomplete diffusers folder."""
    if not model_path:
        raise ModelUnavailableError("no DiT model folder configured: set SHOPVIDEO_MODEL_PATH or pass --model-path")
    root = Path(model_path)
    if not root.is_dir():
        raise ModelUnavailableError(f"DiT model folder not found: {root}")
    index_path = root / "model_index.json"
    if not index_path.is_file():
        raise ModelUnavailableError(f"{root} is not a diffusers pipeline folder (no model_index.json)")
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{index_path} cannot be read: {exc}") from exc
    if index.get("_class_name") != "WanVACEPipeline":
        raise ModelUnavailableError(f"{root} holds a {index.get('_class_name')!r}, not a WanVACEPipeline")
    for name in REQUIRED_COMPONENTS:
        entry = index.get(name)
        folder = root / name
        if not entry or entry[0] is None or not folder.is_dir() or not any(folder.iterdir()):
            raise ModelUnavailableError(f"the DiT model folder {root} lacks its {name}")
        if name in WEIGHTED_COMPONENTS:
            _check_weights(folder)
    return root


def _check_weights(folder: Path) -> None:
    if not (folder / "config.json").is_file():
        raise ModelUnavailableError(f"{folder} has no config.json")
    for index_file in folder.glob("*.index.json"):
        # A sharded checkpoint: every shard named in the index must be there (an interrupted download is not).
        try:
            shards = set(json.loads(index_file.read_text())["weight_map"].values())
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailableError(f"{index_file} cannot be read: {exc}") from exc
        missing = sorted(s for s in shards if not (folder / s).is_file())
        if missing:
            raise ModelUnavailableError(f"{folder} lacks weight shards: {', '.join(missing[:3])}")
        return
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")):
        raise ModelUnavailableError(f"{folder} has no weights")


def frames_to_uint8(frames: Any) -> np.ndarray:
    """Pipeline output (1, N, H, W, 3) floats in 0..1 → uint8. NaN becomes black, which QA then rejects."""
    arr = np.asarray(frames, dtype=np.float32)
    if arr.ndim == 5:
        arr = arr[0]
    arr = np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0)
    # The pipeline's array may be a transposed view and ufuncs keep its strides; OpenCV needs C order.
    return np.ascontiguousarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


class WanVaceEngine:
    name = "dit"

    def __init__(
        self,
        model_path: str | os.PathLike | None,
        *,
        options: DitOptions | None = None,
        device: str | None = None,
        pipeline: WanVACEPipeline | None = None,
    ) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.options = options or options_for(getattr(settings, "SHOPVIDEO_DIT_QUALITY", "balanced"), self.device)
        self.low_memory = False
        self.last_gpu: dict[str, Any] | None = None  # the latest render's GPU memory (render())
        self.cache_counts: Any = None  # the step cache's running counts of calls and skips, when the preset has one
        self.max_clip_frames = MAX_CLIP_FRAMES  # Wan2.1's training length; longer videos are made as clips
        self.last_render: dict[str, Any] | None = None  # the latest render's preset, steps, shift, cache, clips
        if pipeline is None:
            root = validate_model_folder(model_path)
            pipeline = self._load(root)
        self.model_path = str(model_path or "")
        self.pipe = pipeline
        self.pipe.set_progress_bar_config(disable=True)
        if self.device.type == "cuda":
            self.pipe.to(self.device)
        self._apply_options()

    @classmethod
    def from_pipeline(cls, pipeline: WanVACEPipeline, **kwargs: Any) -> WanVaceEngine:
        """An engine around an in-memory pipeline (benchmarks with random weights, tests)."""
        return cls(None, pipeline=pipeline, **kwargs)

    def _load(self, root: Path) -> WanVACEPipeline:
        # bf16 for the transformer and text encoder on CUDA; the Wan VAE stays float32 (as the model card advises).
        dtype: Any = {"default": torch.bfloat16, "vae": torch.float32} if self.device.type == "cuda" else torch.float32
        try:
            # `dtype` is diffusers 0.42's name for torch_dtype (which it deprecates).
            pipe = WanVACEPipeline.from_pretrained(root, dtype=dtype, local_files_only=True)
        except Exception as exc:  # any failure to read the folder means the model is unusable as installed
            raise ModelUnavailableError(f"cannot load the DiT model from {root}: {type(exc).__name__}: {exc}") from exc
        logger.info("loaded WanVACEPipeline from %s on %s", root, self.device)
        return pipe

    def _apply_options(self) -> None:
        transformer = self.pipe.transformer
        opts = self.options
        if self.device.type == "cuda":
            if opts.attention != "native":
                transformer.set_attention_backend(opts.attention)
            if opts.compile:
                transformer.compile_repeated_blocks(fullgraph=True)
        if opts.cache == "vace_step":
            config = VaceStepCacheConfig(
                threshold=opts.cache_threshold, warmup_steps=opts.cache_warmup_steps, max_skips=opts.cache_max_skips
            )
            self.cache_counts = apply_vace_step_cache(transformer, config)
        elif opts.cache != "none":
            # diffusers' block caches (FirstBlockCache, MagCache, ...) would add the VACE hints twice on a skipped
            # step (see generation.engines.vace_cache), so no other cache is offered.
            raise ValueError(f"unknown cache {opts.cache!r}")

    def scheduler_for(self, width: int, height: int) -> UniPCMultistepScheduler:
        return UniPCMultistepScheduler.from_config(
            self.pipe.scheduler.config,
            prediction_type="flow_prediction",
            use_flow_sigmas=True,
            flow_shift=flow_shift_for(width, height),
        )

    def steps_for(self, request: RenderRequest) -> int:
        return int(request.steps or getattr(settings, "SHOPVIDEO_DIT_STEPS", DEFAULT_STEPS))

    def pipeline_kwargs(
        self,
        cond: VaceConditions,
        request: RenderRequest,
        clip: Clip | None = None,
        previous: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """The exact arguments of the WanVACEPipeline call for a request's clip (the whole video by default; tests
        replay them on other pipelines). `previous`: the frames the clip before it generated."""
        clip = clip or Clip(0, request.frames, 0)
        video, mask = extend_with_context(cond.video, cond.mask, clip, previous)
        return {
            "prompt": cond.prompt,
            "negative_prompt": cond.negative_prompt,
            "video": [Image.fromarray(f) for f in video],
            "mask": [Image.fromarray(m, mode="L") for m in mask],
            "reference_images": [Image.fromarray(cond.reference_image)],
            "height": request.height,
            "width": request.width,
            "num_frames": clip.frames,
            "num_inference_steps": self.steps_for(request),
            "guidance_scale": guidance_scale(),
            # A CPU generator gives the same noise on every device, so a seed means the same video anywhere; each
            # clip draws its own noise from the seed.
            "generator": torch.Generator("cpu").manual_seed(int(request.seed) + clip.first),
            "output_type": "np",
        }

    def render(self, request: RenderRequest) -> np.ndarray:
        """The frames; on CUDA `last_gpu` then holds the render's peak GPU memory (None on CPU), which the pipeline
        records in the video's metadata, and the worker's GPU report (/metrics) is published."""
        self.last_gpu = None
        self.last_render = None
        on_gpu = self.device.type == "cuda"
        if on_gpu:
            self._reset_peak_memory()
        try:
            return self._render(request)
        finally:
            if on_gpu:
                self._report_gpu_memory()

    def _render(self, request: RenderRequest) -> np.ndarray:
        if request.width % 16 or request.height % 16 or (request.frames - 1) % 4:
            raise BadInputError(
                f"the DiT needs sizes in multiples of 16 and 4k+1 frames, got {request.width}x{request.height}, "
                f"{request.frames} frames",
                "bad_size",
            )
        cond = build_conditions(request)
        self.pipe.scheduler = self.scheduler_for(request.width, request.height)
        clips = plan_clips(request.frames, self.max_clip_frames)
        parts: list[np.ndarray] = []
        previous: np.ndarray | None = None
        skipped_before = self.cache_counts.skipped if self.cache_counts is not None else 0
        for index, clip in enumerate(clips):
            previous = self._render_clip(cond, request, clip, previous, index, len(clips))
            parts.append(previous[clip.context :])
        skipped = (self.cache_counts.skipped if self.cache_counts is not None else 0) - skipped_before
        frames = np.concatenate(parts)
        self.last_render = {
            "preset": self.options.name,
            "steps": self.steps_for(request),
            "flow_shift": self.pipe.scheduler.config.flow_shift,
            "cache": self.options.cache,
            "clips": [[c.first, c.end] for c in clips],
            "control": cond.control,
            "skipped_steps": skipped,  # transformer calls the step cache skipped, over the clips and both branches
        }
        raw = np.asarray(frames, dtype=np.float32)
        out = frames_to_uint8(raw)
        expected = (request.frames, request.height, request.width, 3)
        if out.shape != expected:
            raise PipelineError(f"the DiT returned frames of shape {out.shape}, expected {expected}", "engine_output")
        generated = cond.mask > 0
        if not np.isfinite(raw).all() or (generated.any() and int(out[generated].max()) <= 2):
            bad = int((~np.isfinite(raw)).sum())
            raise DegenerateOutputError(f"the DiT returned degenerate frames ({bad} non-finite values, or all black)")
        return out

    def _render_clip(
        self,
        cond: VaceConditions,
        request: RenderRequest,
        clip: Clip,
        previous: np.ndarray | None,
        index: int,
        count: int,
    ) -> np.ndarray:
        """One clip's frames, (clip.frames, H, W, 3) floats 0..1; progress maps the clip onto the whole video."""

        def progress(fraction: float) -> None:
            request.on_progress((index + fraction) / count)

        context = None if previous is None else frames_to_uint8(previous)  # the pixels the next clip continues
        kwargs = self.pipeline_kwargs(cond, request, clip, context)
        try:
            frames = self._call(kwargs, progress)
        except torch.cuda.OutOfMemoryError as exc:
            if self.low_memory:
                raise GpuOutOfMemoryError(f"CUDA out of memory with CPU offload and VAE tiling: {exc}") from exc
            logger.warning("CUDA out of memory; retrying once with CPU offload and VAE tiling")
            self._enable_low_memory()
            kwargs = self.pipeline_kwargs(cond, request, clip, context)  # a fresh generator: the same noise
            try:
                frames = self._call(kwargs, progress)
            except torch.cuda.OutOfMemoryError as exc2:
                raise GpuOutOfMemoryError(f"CUDA out of memory with CPU offload and VAE tiling: {exc2}") from exc2
        arr = np.asarray(frames, dtype=np.float32)
        return arr[0] if arr.ndim == 5 else arr

    def _device_index(self) -> int:
        return self.device.index if self.device.index is not None else torch.cuda.current_device()

    def _reset_peak_memory(self) -> None:
        try:
            torch.cuda.reset_peak_memory_stats(self._device_index())
        except Exception:  # figures for operators must never fail a job
            logger.warning("cannot reset the GPU's peak memory statistics", exc_info=True)

    def _report_gpu_memory(self) -> None:
        from shop_video.core import gpu_telemetry as gpu_report

        try:
            self.last_gpu = gpu_report.job_usage(torch.cuda, self._device_index())
        except Exception:
            logger.warning("cannot read the render's GPU memory", exc_info=True)
        gpu_report.publish_quietly()

    def _call(self, kwargs: dict[str, Any], on_progress: Callable[[float], None]) -> Any:
        steps = kwargs["num_inference_steps"]

        def on_step_end(pipe: WanVACEPipeline, i: int, t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            on_progress((i + 1) / steps)  # raises JobCanceled to stop the job; it leaves the loop as is
            return tensors

        try:
            return self.pipe(**kwargs, callback_on_step_end=on_step_end).frames
        finally:
            # Resets the cache hooks' state also after a cancel or an error, so the next video starts clean.
            self.pipe.maybe_free_model_hooks()

    def _enable_low_memory(self) -> None:
        torch.cuda.empty_cache()
        self.pipe.to("cpu")
        self.pipe.enable_model_cpu_offload(device=self.device)
        self.pipe.vae.enable_tiling()
        self.low_memory = True

    def describe(self) -> dict[str, Any]:
        return {"device": str(self.device), "options": asdict(self.options), "low_memory": self.low_memory}
