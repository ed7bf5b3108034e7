"""Benchmark of one ad end to end: a 15 s 9:16 480p ad (240 frames) from three photos of one product, compositor,
with music (a 30 s bed of chords and a kick at 100 BPM, made here as a WAV file, as a merchant's upload would be).

    .venv/bin/python bench/ad_bench.py [--write-doc] [--compare N]

Measures, in one process and one run (so that the figures compare side by side):
1. each stage's wall-clock and CPU time (the process's, all threads) and share: prepare (ingest and cutout of the
   three photos), music (decode, trim, fades, loudness to -14 LUFS, true peak, beats), plan (the storyboard, cuts
   on the beats), render (the engine), lock (the fidelity lock), end card, transitions and label, encode (4:2:0
   conversion and x264), decode, QA, audio (AAC under the video), credentials, export check;
2. x264 presets on the same frames: time, file size and the product's PSNR (QA's, per shot, minimum).

With --compare N: the ad made N times with the encode and QA of before they were made faster (`ad_baseline.py`)
and N times with today's, alternately in one process (the machine is shared and its load moves), medians per stage;
then QA's reports on one decoded ad by the old and the new QA (the largest difference), and the product's PSNR per
shot in the old and the new encode.

Prints markdown; with --write-doc, replaces the "## Ads" section of docs/benchmarks.md (other sections are kept).
Not a test: the machine is shared, so the timings move with its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("SHOPVIDEO_VAR_DIR", str(ROOT / "var" / "bench"))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from generation.pipeline import audio, encode, qa  # noqa: E402
from generation.pipeline.ads import render  # noqa: E402
from generation.pipeline.ads.photos import AdPhoto, prepare_photo  # noqa: E402
from generation.pipeline.ads.storyboard import plan_storyboard  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import ad_baseline  # noqa: E402

from tests import audio_samples  # noqa: E402

PHOTO = ROOT / "tests" / "fixtures" / "realworld" / "01-sneaker-white-bg.jpg"
CROP = (slice(200, 1400), slice(120, 1520))
PRESETS = ("fast", "faster", "veryfast")


def _photos() -> list[AdPhoto]:
    """The sneaker photo, its mirror image and a crop: one cutout, mirrored and cropped with the photo."""
    base = prepare_photo(PHOTO)
    mirrored = AdPhoto(base.rgb[:, ::-1].copy(), base.mask[:, ::-1].copy(), None, base.checksum, base.cutout)
    cropped = AdPhoto(base.rgb[CROP].copy(), base.mask[CROP].copy(), None, base.checksum, base.cutout)
    return [base, mirrored, cropped]


def _music(folder: Path) -> Path:
    """A merchant's track: 30 s of chords and a kick at 100 BPM, 44.1 kHz stereo WAV."""
    return audio_samples.write_wav(folder / "music.wav", audio_samples.music(30.0, 44_100, 100.0), 44_100)


def _plan(timer: render._Timer, folder: Path):
    """The photos, the music and the storyboard, each stage timed: what make_ad does before it renders."""
    with timer.stage("prepare"):
        photos = _photos()
    with timer.stage("music"):
        music = audio.prepare_track(_music(folder), 15)
        beats = list(audio.beats(music))
    with timer.stage("plan"):
        board = plan_storyboard([p.rgb for p in photos], [p.mask for p in photos], seconds=15, seed=7,
                                title="Runner", price="89.00", beats=beats)  # fmt: skip
    return photos, music, board


def run() -> str:
    timer = render._Timer()
    folder = Path(tempfile.mkdtemp(prefix="ad_bench_"))
    photos, music, board = _plan(timer, folder)
    result = render.render_ad(board, photos, folder / "ad.mp4", audio=music, mux=audio.mux_audio, timer=timer)
    timings = dict(result.timings)
    total = timings.pop("total") + timings["prepare"] + timings["music"] + timings["plan"]
    lines = [
        "## Ads",
        "",
        f"`bench/ad_bench.py`, {dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores (shared "
        "with other work: the figures move with its load). One 15 s 9:16 480p ad (240 frames at 16 fps) from three "
        "photos of one product (the 1600 px sneaker fixture, its mirror image and a crop), compositor engine, with "
        f"music (a 30 s WAV, levelled to {result.contract['audio']['lufs']:.1f} LUFS, cuts on its beats), "
        f"{len(board.shots)} shots ({', '.join(s.kind for s in board.shots)}), QA passed: {result.qa_passed}.",
        "",
        "| stage | wall seconds | CPU seconds | share (wall) |",
        "|---|---:|---:|---:|",
    ]
    cpu = timer.cpu
    for stage, seconds in timings.items():
        lines.append(f"| {stage} | {seconds:.2f} | {cpu.get(stage, 0.0):.2f} | {100 * seconds / total:.0f} % |")
    cpu_total = sum(cpu.values())
    lines += [
        f"| **total** | **{total:.2f}** | {cpu_total:.2f} | {total / board.seconds:.1f} × the ad's length |",
        "",
    ]

    # Encoder presets on the same frames.
    frames, layers = render.render_frames(board, photos)
    lines += [
        f"x264 presets on the same frames (crf 10, `{encode.X264_PARAMS}`, trellis on in every preset; the product's "
        f"4:2:0 conversion unchanged; `{encode.VIDEO_PRESET}` is the default); product PSNR is QA's, the minimum over "
        "all product shots:",
        "",
        "| preset | encode seconds | ratio | MB | product PSNR min (dB) |",
        "|---|---:|---:|---:|---:|",
    ]
    first = None
    for preset in PRESETS:
        path = folder / f"{preset}.mp4"
        start = time.perf_counter()
        encode.encode_mp4(frames, path, fps=board.fps, layers=layers, preset=preset)
        seconds = time.perf_counter() - start
        first = first or seconds
        reports = render.measure_shots(encode.decode_mp4(path), board, photos)
        worst = min(r.psnr_min for r in reports.values())
        mb = path.stat().st_size / 1e6
        lines.append(f"| {preset} | {seconds:.2f} | {seconds / first:.2f} | {mb:.1f} | {worst:.2f} |")
    lines.append("")
    return "\n".join(lines)


def _one(folder: Path, name: str) -> tuple[dict, dict, render.AdResult]:
    """One ad end to end (prepare, plan, render_ad): wall and CPU seconds per stage."""
    timer = render._Timer()
    photos, music, board = _plan(timer, folder)
    started = time.perf_counter()
    result = render.render_ad(board, photos, folder / f"{name}.mp4", audio=music, mux=audio.mux_audio, timer=timer)
    wall = dict(result.timings)
    wall["total"] = time.perf_counter() - started + wall["prepare"] + wall["music"] + wall["plan"]
    cpu = dict(timer.cpu)
    cpu["total"] = sum(timer.cpu.values())
    return wall, cpu, result


def compare(rounds: int) -> str:
    """The old and the new encode and QA, alternately, `rounds` times each; medians."""
    folder = Path(tempfile.mkdtemp(prefix="ad_bench_"))
    runs: dict[str, list] = {"before": [], "after": []}
    for i in range(rounds):
        with ad_baseline.before():
            runs["before"].append(_one(folder, f"before{i}"))
        runs["after"].append(_one(folder, f"after{i}"))
    stages = list(runs["after"][0][0])
    med = {
        (k, kind): {st: float(np.median([r[j][st] for r in runs[k]])) for st in stages}
        for k in runs
        for j, kind in enumerate(("wall", "cpu"))
    }
    lines = [
        f"{rounds} runs of each, alternated in one process; medians. Wall and CPU seconds (the process's, all threads),"
        " share of the total wall time, and after ÷ before:",
        "",
        "| stage | wall before | wall after | ratio | CPU before | CPU after | ratio | share before | share after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for st in stages:
        wb, wa = med["before", "wall"][st], med["after", "wall"][st]
        cb, ca = med["before", "cpu"][st], med["after", "cpu"][st]
        tb, ta = med["before", "wall"]["total"], med["after", "wall"]["total"]
        ratio = lambda a, b: f"{a / b:.2f}" if b > 0.005 else "–"  # noqa: E731
        name = f"**{st}**" if st == "total" else st
        lines.append(f"| {name} | {wb:.2f} | {wa:.2f} | {ratio(wa, wb)} | {cb:.2f} | {ca:.2f} | {ratio(ca, cb)} | "
                     f"{100 * wb / tb:.0f} % | {100 * wa / ta:.0f} % |")  # fmt: skip
    lines.append("")
    lines.append("Each run's total wall seconds, before: " + ", ".join(f"{r[0]['total']:.1f}" for r in runs["before"])
                 + "; after: " + ", ".join(f"{r[0]['total']:.1f}" for r in runs["after"]) + ".")  # fmt: skip
    # The same decoded ad measured by the old and the new QA.
    photos, _, board = _plan(render._Timer(), folder)
    decoded = encode.decode_mp4(folder / "after0.mp4")
    new = render.measure_shots(iter(decoded), board, photos)
    saved, qa.measure_frames = qa.measure_frames, ad_baseline.measure_frames
    try:
        old = render.measure_shots(iter(decoded), board, photos)
    finally:
        qa.measure_frames = saved
    fields = ("psnr_min", "psnr_mean", "ssim_min", "flicker", "edge_iou")
    worst = max(abs(getattr(old[i], f) - getattr(new[i], f)) for i in new for f in fields)
    same_frames = all(old[i].frames == new[i].frames and old[i].psnr_per_frame == new[i].psnr_per_frame for i in new)
    lines += [
        "",
        f"QA of one decoded ad, old and new code: the largest difference in any shot's {', '.join(fields)} is "
        f"{worst:.2g}; the same frames measured, per-frame PSNR {'identical' if same_frames else 'NOT identical'}.",
        "",
        "The product's PSNR (QA's minimum per shot, dB) in the old and the new encode:",
        "",
        "| shot | " + " | ".join(s["kind"] for s in runs["after"][0][2].contract["shots"] if s["qa"]) + " |",
        "|---|" + "---:|" * len(new),
    ]
    for k in runs:
        shots = [s["qa"] for s in runs[k][0][2].contract["shots"] if s["qa"]]
        lines.append(f"| {k} | " + " | ".join(f"{q['psnr_min']:.2f}" for q in shots) + " |")
    lines.append("")
    return "\n".join(lines)


def write_doc(section: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    pattern = re.compile(r"^## Ads\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-doc", action="store_true")
    parser.add_argument("--compare", type=int, default=0, metavar="N", help="old and new paths, N runs of each")
    args = parser.parse_args()
    if args.compare:
        print(compare(args.compare))
        return
    section = run()
    print(section)
    if args.write_doc:
        write_doc(section)


if __name__ == "__main__":
    main()
