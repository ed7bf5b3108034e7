"""Benchmark of the DiT engine (Wan2.1 VACE through diffusers). Results go to docs/benchmarks.md § DiT engine.

    # CPU: the tiny random model's seconds per step, so that regressions show
    .venv/bin/python bench/dit.py cpu [--width 480 --height 832 --frames 49 --steps 3]
    # GPU: the full-size Wan2.1-VACE-1.3B architecture with random weights, vanilla vs our option set
    python bench/dit.py gpu [--frames 33 81] [--steps 50] [--presets vanilla balanced]
    # the GPU path's construction and one step on CPU at toy scale (checks the code, not the speed)
    .venv/bin/python bench/dit.py gpu --dry-run

The UMT5-XXL text encoder (about 11 GB) is bypassed with random prompt embeddings of shape (1, 512, 4096): it
runs once per video and is not what this measures. Random weights cost the same FLOPs as trained ones.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
# A benchmark serves nothing and keeps nothing signed: a throwaway key, unless one is set.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline, WanVACETransformer3DModel  # noqa: E402
from PIL import Image  # noqa: E402

from generation.engines.wan_vace import QUALITY_PRESETS, WanVaceEngine, flow_shift_for, guidance_scale  # noqa: E402

# Wan2.1-VACE-1.3B's transformer config (the diffusers-format checkpoint's transformer/config.json).
VACE_1_3B = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
    "vace_layers": list(range(0, 30, 2)),
    "vace_in_channels": 96,
}
TEXT_TOKENS, TEXT_DIM = 512, 4096


def step_tflop(width: int, height: int, frames: int, references: int = 1, cfg: bool = True, layers: int = 30) -> float:
    """Dense FLOPs of one denoising step (multiply-add = 2): main blocks + VACE blocks, conditional + unconditional."""
    d, f = 1536, 8960
    tokens = ((frames - 1) // 4 + 1 + references) * (height // 16) * (width // 16)
    per_block = (
        8 * tokens * d * d  # self-attention q, k, v, o
        + 4 * tokens * tokens * d  # self-attention scores and weighted sum
        + 4 * tokens * d * d
        + 4 * TEXT_TOKENS * d * d  # cross-attention q, o; k, v on the text
        + 4 * tokens * TEXT_TOKENS * d  # cross-attention scores and weighted sum
        + 4 * tokens * d * f  # feed-forward
    )
    blocks = layers + len(range(0, layers, 2))
    return per_block * blocks * (2 if cfg else 1) / 1e12


def full_size_pipeline(layers: int, dtype: torch.dtype, device: torch.device) -> WanVACEPipeline:
    config = {**VACE_1_3B, "num_layers": layers, "vace_layers": list(range(0, layers, 2))}
    transformer = WanVACETransformer3DModel(**config).to(device, dtype).eval()
    # As from_pretrained(dtype=bf16) does: norms, rope and time embedding stay float32.
    keep = tuple(transformer._keep_in_fp32_modules or ())
    for name, module in transformer.named_modules():
        if name.split(".")[-1] in keep:
            module.to(torch.float32)
    vae = AutoencoderKLWan().to(device, torch.float32).eval()  # the default config is Wan2.1's VAE
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    return WanVACEPipeline(tokenizer=None, text_encoder=None, vae=vae, scheduler=scheduler, transformer=transformer)


def tiny_pipeline() -> WanVACEPipeline:
    from tests.unit.dit.tiny_wan import build_pipeline

    return build_pipeline()


def inputs(width: int, height: int, frames: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    video = [Image.fromarray(rng.integers(0, 255, (height, width, 3), np.uint8)) for _ in range(frames)]
    mask = np.full((height, width), 255, np.uint8)
    mask[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3] = 0  # a kept product region
    ref = Image.fromarray(rng.integers(0, 255, (height // 2, width // 3, 3), np.uint8))
    return {"video": video, "mask": [Image.fromarray(mask)] * frames, "reference_images": [ref]}


def run_once(engine: WanVaceEngine, width: int, height: int, frames: int, steps: int, embeds, sync) -> dict:
    pipe = engine.pipe
    pipe.scheduler = engine.scheduler_for(width, height)
    marks: list[float] = []

    def on_step(_pipe, i, t, tensors):
        sync()
        marks.append(time.perf_counter())
        return tensors

    skipped_before = engine.cache_counts.skipped if engine.cache_counts is not None else 0
    sync()
    start = time.perf_counter()
    out = pipe(
        prompt_embeds=embeds[0],
        negative_prompt_embeds=embeds[1],
        height=height,
        width=width,
        num_frames=frames,
        num_inference_steps=steps,
        guidance_scale=guidance_scale(),
        generator=torch.Generator("cpu").manual_seed(0),
        output_type="np",
        callback_on_step_end=on_step,
        **inputs(width, height, frames),
    ).frames
    sync()
    end = time.perf_counter()
    # Transformer calls the step cache skipped (both guidance branches).
    skipped = (engine.cache_counts.skipped if engine.cache_counts is not None else 0) - skipped_before
    pipe.maybe_free_model_hooks()
    step_times = np.diff([start, *marks])
    # The first step pays compilation and warm-up; the steady state is the median of the others.
    steady = float(np.median(step_times[1:])) if len(step_times) > 1 else float(step_times[0])
    return {
        "s_per_step": steady,
        "first_step_s": float(step_times[0]),
        "denoise_s": float(marks[-1] - start),
        "end_to_end_s": end - start,
        "skipped_calls": skipped,
        "frames_out": np.asarray(out)[0],
    }


def diff_db(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    if region is not None:
        a, b = a[:, region], b[:, region]
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else min(99.0, 10 * np.log10(1.0 / mse))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["cpu", "gpu"])
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--frames", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--presets", nargs="+", default=["vanilla", "balanced"], choices=sorted(QUALITY_PRESETS))
    parser.add_argument("--layers", type=int, default=30, help="gpu mode: transformer layers (30 = the 1.3B model)")
    parser.add_argument(
        "--dry-run", action="store_true", help="gpu mode on CPU at toy scale (2 layers, 64x64, 5 frames)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    results = []
    if args.mode == "cpu":
        frames_list, steps = args.frames or [49], args.steps or 3
        device, card = torch.device("cpu"), "CPU"
        embeds = (torch.randn(1, 16, 32), torch.randn(1, 16, 32))
        make, sync = tiny_pipeline, (lambda: None)
        presets = ["vanilla"]
    else:
        if args.dry_run:
            args.width, args.height, args.layers = 64, 64, 2
            frames_list, steps, device, card = [5], args.steps or 2, torch.device("cpu"), "CPU (dry run)"
            dtype, sync = torch.float32, (lambda: None)
        else:
            if not torch.cuda.is_available():
                sys.exit("gpu mode needs CUDA (or --dry-run)")
            frames_list, steps, device = args.frames or [33, 81], args.steps or 50, torch.device("cuda")
            card, dtype, sync = torch.cuda.get_device_name(0), torch.bfloat16, torch.cuda.synchronize
        gen = torch.Generator("cpu").manual_seed(0)
        embeds = tuple(torch.randn(1, TEXT_TOKENS, TEXT_DIM, generator=gen).to(device, dtype) for _ in range(2))
        layers = args.layers

        def make() -> WanVACEPipeline:
            return full_size_pipeline(layers, dtype, device)

        presets = args.presets
    print(f"device: {card}; torch {torch.__version__}; flow_shift {flow_shift_for(args.width, args.height)}")
    for frames in frames_list:
        baseline = None
        for preset in presets:
            torch.manual_seed(0)  # the same random weights for every preset
            engine = WanVaceEngine.from_pipeline(make(), options=QUALITY_PRESETS[preset], device=str(device))
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            r = run_once(engine, args.width, args.height, frames, steps, embeds, sync)
            out = r.pop("frames_out")
            row = {"card": card, "preset": preset, "frames": frames, "steps": steps, **r}
            if device.type == "cuda":
                row["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
            if args.mode == "gpu" and not args.dry_run:
                bound = step_tflop(args.width, args.height, frames, layers=args.layers) / 700.0
                row["x_bound"] = r["s_per_step"] / bound
            if baseline is None:
                baseline = out
            else:
                h, w = out.shape[1:3]
                product = np.zeros((h, w), bool)
                product[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = True
                row["vs_vanilla_psnr_frame"] = diff_db(out, baseline)
                row["vs_vanilla_psnr_product"] = diff_db(out, baseline, product)
            results.append(row)
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
            del engine
            if device.type == "cuda":
                torch.cuda.empty_cache()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
