"""Benchmark of the CPU compositor engine and of one whole pipeline run with it.

    .venv/bin/python bench/compositor_bench.py [--write-doc] [--jobs 20] [--repeats 2]

Measures, in one process and one run (so that the figures compare side by side):
1. engine render speed per scene style for a 5 s 9:16 video at 16 fps (81 frames), at 480×832 and 720×1280:
   seconds, frames per second and × real time (fps ÷ 16), and the background flicker of the rendered frames
   (QA definition: mean absolute difference of consecutive frames outside the product, 8-bit levels);
2. the time of each stage of one `run_pipeline` (what `make_video` runs) on a synthetic photo, 480p and 720p;
3. the resident memory (RSS) of this process after each of N consecutive short jobs, as a worker would run them.

Prints markdown; with --write-doc, replaces the "## Compositor (CPU)" section of docs/benchmarks.md (other
sections are kept). Not a test: the machine is shared, so timings are the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
# A benchmark serves nothing and keeps nothing signed: a throwaway key, unless one is set.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("SHOPVIDEO_VAR_DIR", str(ROOT / "var" / "bench"))

import django  # noqa: E402

django.setup()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from generation.constants import frame_count  # noqa: E402
from generation.engines.base import RenderRequest  # noqa: E402
from generation.engines.compositor import CompositorEngine  # noqa: E402
from generation.pipeline import layout, qa  # noqa: E402
from generation.pipeline.run import run_pipeline  # noqa: E402
from generation.pipeline.spec import VariantSpec  # noqa: E402
from generation.presets import MARKETS_BY_SLUG, SCENE_STYLES, SCENES, scene_palette  # noqa: E402
from tests import synthetic  # noqa: E402

FPS = 16
SECONDS = 5
SIZES = {"480p": (480, 832), "720p": (720, 1280)}
SECTION = "## Compositor (CPU)"
DOC = ROOT / "docs" / "benchmarks.md"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB, from /proc (VmRSS, VmHWM)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0]) / 1024.0
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def flicker(frames: np.ndarray, mask: np.ndarray, placements: np.ndarray) -> float:
    """As generation.pipeline.qa measures it, on frames before encoding."""
    height, width = frames.shape[1:3]
    diffs, previous = [], None
    kernel = np.ones((9, 9), np.uint8)
    for frame, placement in zip(frames, placements, strict=True):
        outside = ~cv2.dilate(qa.product_region(mask, placement, (width, height)).astype(np.uint8), kernel).astype(bool)
        grey = frame.astype(np.int16)
        if previous is not None:
            both = outside & previous[1]
            diffs.append(float(np.abs(grey[both] - previous[0][both]).mean()))
        previous = (grey, outside)
    return float(np.mean(diffs))


def scene_for(style: str):
    return next(s for s in SCENES if s.style == style)


def bench_render(photo: np.ndarray, mask: np.ndarray, repeats: int) -> list[dict]:
    engine = CompositorEngine()
    market = MARKETS_BY_SLUG["us"]
    frames_n = frame_count(SECONDS, FPS)
    rows = []
    for style in SCENE_STYLES:
        scene = scene_for(style)
        row: dict = {"style": style, "scene": scene.slug}
        for label, (width, height) in SIZES.items():
            plan = layout.plan_layout(mask=mask, frame_size=(width, height), frames=frames_n, motion="push-in", seed=0)
            best, best_paint = float("inf"), float("inf")
            for _ in range(repeats):
                marks: list[float] = []
                request = RenderRequest(
                    photo_rgb=photo,
                    mask=mask,
                    layout=plan,
                    width=width,
                    height=height,
                    fps=FPS,
                    frames=frames_n,
                    market=market,
                    scene=scene,
                    palette=scene_palette(market, scene),
                    seed=0,
                    on_progress=lambda _f, marks=marks: marks.append(time.perf_counter()),
                )
                start = time.perf_counter()
                frames = engine.render(request)
                elapsed = time.perf_counter() - start
                if elapsed < best:
                    best, best_paint = elapsed, marks[0] - start  # first report: the canvas is painted
            row[label] = {"seconds": best, "paint": best_paint, "fps": frames_n / best}
            if label == "480p":
                row["flicker"] = flicker(frames, mask, plan.placements)
            del frames
        rows.append(row)
        print(f"  render {style}: 480p {row['480p']['fps']:.0f} fps, 720p {row['720p']['fps']:.0f} fps", flush=True)
    return rows


def photo_jpeg(photo_image) -> bytes:
    buf = io.BytesIO()
    photo_image.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def bench_pipeline(jpeg: bytes, workdir: Path) -> dict[str, dict]:
    out = {}
    for resolution in SIZES:
        spec = VariantSpec(market="us", scene="studio-sweep", resolution=resolution, seconds=SECONDS, fps=FPS, seed=0)
        start = time.perf_counter()
        result = run_pipeline(photo=jpeg, out_path=workdir / f"full-{resolution}.mp4", spec=spec)
        out[resolution] = {
            "total": time.perf_counter() - start,
            "timings": dict(result.timings),
            "qa": result.qa.summary(),
            "attempts": getattr(result, "attempts", 1),
        }
        print(f"  pipeline {resolution}: {out[resolution]['total']:.1f} s", flush=True)
    return out


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: write 5 to clear_refs), so the peak covers the worker loop only, not the 720p renders."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def bench_worker_memory(jpeg: bytes, workdir: Path, jobs: int) -> list[dict]:
    rows = []
    reset_peak_rss()
    markets = ["us", "fr", "br", "jp", "gb"]
    for job in range(jobs):
        scene = SCENES[job % len(SCENES)]
        market = markets[job % len(markets)]
        spec = VariantSpec(market=market, scene=scene.slug, resolution="480p", seconds=2, fps=FPS, seed=job)
        start = time.perf_counter()
        result = run_pipeline(photo=jpeg, out_path=workdir / f"job-{job:02d}.mp4", spec=spec)
        rss, peak = rss_mb()
        rows.append(
            {
                "job": job + 1,
                "scene": scene.slug,
                "market": market,
                "seconds": time.perf_counter() - start,
                "rss": rss,
                "peak": peak,
                "flicker": result.qa.flicker,
                "psnr_min": result.qa.psnr_min,
            }
        )
        print(f"  job {job + 1}: {scene.slug} ({market}) RSS {rss:.0f} MiB", flush=True)
    return rows


def markdown(meta: dict, render_rows: list[dict], pipeline: dict, memory: list[dict]) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {meta['date']} on {meta['cpu']}, {meta['cores']} cores, {meta['mem']}; Python {meta['python']}, "
        f"OpenCV {meta['opencv']}, NumPy {meta['numpy']}. The machine is shared with other engineers' work "
        f"(load average {meta['load_start']} at the start, {meta['load_end']} at the end), so absolute times are "
        f"noisy; each render figure is the best of {meta['repeats']} runs, and all figures come from the same run.",
        "",
        "Reproduce: `.venv/bin/python bench/compositor_bench.py --write-doc` (a few minutes).",
        "",
        f"### Engine render, 5 s 9:16 at {FPS} fps ({frame_count(SECONDS, FPS)} frames), `push-in` camera",
        "",
        "The engine alone (background, camera, light, grain, contact shadow; the product is composited later by the "
        "fidelity lock). × real time = render fps ÷ 16. Paint = the one-off canvas painting inside that time. "
        "Flicker = mean |Δ| of consecutive frames outside the product (8-bit levels, QA definition) at 480p.",
        "",
        "| style (scene) | 480×832 s | paint s | fps | × real time | 720×1280 s | paint s | fps | × real time "
        "| flicker |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in render_rows:
        a, b = r["480p"], r["720p"]
        lines.append(
            f"| {r['style']} ({r['scene']}) | {a['seconds']:.2f} | {a['paint']:.2f} | {a['fps']:.0f} "
            f"| {a['fps'] / FPS:.1f}× | {b['seconds']:.2f} | {b['paint']:.2f} | {b['fps']:.0f} "
            f"| {b['fps'] / FPS:.1f}× | {r['flicker']:.2f} |"
        )
    slowest = {k: max(r[k]["seconds"] for r in render_rows) for k in SIZES}
    lines += [
        "",
        f"Slowest style: {slowest['480p']:.2f} s at 480×832 (target: under {SECONDS} s), "
        f"{slowest['720p']:.2f} s at 720×1280.",
        "",
        "### One whole pipeline run (`run_pipeline`, as `make_video` does), studio-sweep, 5 s, synthetic 720×900 JPEG",
        "",
        "| stage | 480p s | share | 720p s | share |",
        "|---|---|---|---|---|",
    ]
    stages = [s for s in dict.fromkeys([*pipeline["480p"]["timings"], *pipeline["720p"]["timings"]]) if s != "total"]
    for stage in stages:
        cells = []
        for res in SIZES:
            t = pipeline[res]["timings"].get(stage, 0.0)
            cells += [f"{t:.2f}", f"{100 * t / pipeline[res]['total']:.0f} %"]
        lines.append(f"| {stage} | {' | '.join(cells)} |")
    lines.append(
        f"| **total** | **{pipeline['480p']['total']:.2f}** | 100 % | **{pipeline['720p']['total']:.2f}** | 100 % |"
    )
    for res in SIZES:
        q = pipeline[res]["qa"]
        lines.append("")
        lines.append(
            f"QA of the {res} video (decoded MP4): PSNR min {q['psnr_min']:.1f} dB, SSIM min {q['ssim_min']:.4f}, "
            f"flicker {q['flicker']:.3f}; attempts {pipeline[res]['attempts']}; "
            f"{5.0 / pipeline[res]['total']:.2f}× real time end to end."
        )
    first, last = memory[0], memory[-1]
    settled = memory[min(2, len(memory) - 1)]
    lines += [
        "",
        f"### Worker memory over {len(memory)} consecutive jobs (one process, 2 s 480p videos, scenes and markets "
        "cycling)",
        "",
        "| job | scene | market | s | RSS MiB | peak RSS MiB | QA flicker | PSNR min dB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in memory:
        lines.append(
            f"| {m['job']} | {m['scene']} | {m['market']} | {m['seconds']:.1f} | {m['rss']:.0f} | {m['peak']:.0f} "
            f"| {m['flicker']:.3f} | {m['psnr_min']:.1f} |"
        )
    lines += [
        "",
        f"RSS after job 1: {first['rss']:.0f} MiB; after job {settled['job']}: {settled['rss']:.0f} MiB; after job "
        f"{last['job']}: {last['rss']:.0f} MiB (growth from job {settled['job']} to {last['job']}: "
        f"{last['rss'] - settled['rss']:+.0f} MiB; peak {last['peak']:.0f} MiB).",
        "",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = (
        DOC.read_text()
        if DOC.exists()
        else "# Benchmarks\n\nEach section is written by the script it names; run that script again to update it.\n\n"
    )
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-doc", action="store_true", help=f"update the {SECTION!r} section of {DOC.name}")
    parser.add_argument("--jobs", type=int, default=20, help="consecutive jobs for the memory figure")
    parser.add_argument("--repeats", type=int, default=2, help="render runs per figure (best is kept)")
    args = parser.parse_args()

    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "mem": f"{int(meminfo[1]) / 1024**2:.0f} GiB RAM" if len(meminfo) > 1 else "",
        "python": platform.python_version(),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "repeats": args.repeats,
        "load_start": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    image, true_mask = synthetic.product_on_white()
    photo, mask = np.array(image), (true_mask * 255).astype(np.uint8)
    jpeg = photo_jpeg(image)
    print("engine render:", flush=True)
    render_rows = bench_render(photo, mask, args.repeats)
    with tempfile.TemporaryDirectory(prefix="compositor-bench-", dir=os.environ["SHOPVIDEO_VAR_DIR"]) as tmp:
        print("pipeline:", flush=True)
        pipeline = bench_pipeline(jpeg, Path(tmp))
        print("worker memory:", flush=True)
        memory = bench_worker_memory(jpeg, Path(tmp), args.jobs)
    meta["load_end"] = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    section = markdown(meta, render_rows, pipeline, memory)
    print()
    print(section)
    if args.write_doc:
        write_doc(section)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
