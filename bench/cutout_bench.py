"""Benchmark of the cutout methods on a 1600 px photo, and each method's share of one make_video run.

    .venv/bin/python bench/cutout_bench.py [--write-doc] [--repeats 5]

Photos: for classical, the real studio shot 01 (1600×1600); for guided and learned, the tote pasted onto the wood
planks of 04 (1600×1067, tests/incontext.py) with a 6 %-padded box. Learned runs a stand-in model of a real
one's cost: random weights, ~40 GFLOP at 1024×1024 (a few convolutions, built with onnx.helper), through the same
onnxruntime loading path; its answer is noise, so only its time means anything, and its share of a make_video run
is estimated from the guided run's other stages (a noise mask would not make a video).

Prints markdown; with --write-doc, replaces the "## Cutout" section of docs/benchmarks.md. Not a test: the
machine is shared, so each figure is the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
os.environ.setdefault("SHOPVIDEO_VAR_DIR", str(ROOT / "var" / "bench"))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from django.conf import settings  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from generation.pipeline import cutout  # noqa: E402
from generation.pipeline.cutout import learned  # noqa: E402
from generation.pipeline.ingest import ingest_photo  # noqa: E402
from generation.pipeline.run import run_pipeline  # noqa: E402
from generation.pipeline.spec import VariantSpec  # noqa: E402
from tests import incontext  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Cutout"

# (in, out, kernel, stride) at 1024×1024 input: 0.45 + 9.7 + 19.3 + 9.7 GFLOP (2·Cin·Cout·k²·H·W) ≈ 39 GFLOP
STAND_IN_LAYERS = [(3, 32, 3, 2), (32, 64, 3, 1), (64, 64, 3, 1), (64, 32, 3, 1), (32, 1, 1, 1)]


def stand_in_model(path: Path, side: int = 1024) -> tuple[Path, float]:
    """A salient-object model's cost with random weights; returns its path and its GFLOP at side×side."""
    rng = np.random.default_rng(0)
    nodes, inits, flops = [], [], 0.0
    name, size = "image", side
    for i, (cin, cout, k, stride) in enumerate(STAND_IN_LAYERS):
        weight = (rng.standard_normal((cout, cin, k, k)) * (1.0 / np.sqrt(cin * k * k))).astype(np.float32)
        inits.append(numpy_helper.from_array(weight, f"w{i}"))
        size //= stride
        flops += 2.0 * cin * cout * k * k * size * size
        out = f"c{i}"
        nodes.append(helper.make_node("Conv", [name, f"w{i}"], [out], pads=[k // 2] * 4, strides=[stride, stride]))
        name = out
        if i < len(STAND_IN_LAYERS) - 1:
            nodes.append(helper.make_node("Relu", [name], [f"r{i}"]))
            name = f"r{i}"
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"))
    nodes.append(helper.make_node("Resize", [name, "", "scales"], ["up"], mode="linear"))
    nodes.append(helper.make_node("Sigmoid", ["up"], ["mask"]))
    graph = helper.make_graph(
        nodes,
        "stand_in",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, side, side])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path, flops / 1e9


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def share_of_run(photo: Path, folder: Path, **kwargs) -> tuple[float, float]:
    spec = VariantSpec(engine="compositor", seconds=5.0, fps=16, resolution="480p", aspect_ratio="9:16")
    result = run_pipeline(photo=photo, out_path=folder / f"{photo.stem}.mp4", spec=spec, **kwargs)
    return result.timings["cutout"], result.timings["total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-doc", action="store_true", help=f"update the {SECTION!r} section of {DOC.name}")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    studio = ingest_photo(incontext.FIXTURES / "01-sneaker-white-bg.jpg")
    rgb, truth = incontext.case("tote-on-wood")
    scene = ingest_photo(incontext.jpeg(rgb))
    guide = cutout.CutoutGuide(box=incontext.padded_box(truth))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_path, gflop = stand_in_model(folder / "stand_in.onnx")
        settings.SHOPVIDEO_CUTOUT_MODEL = ""
        classical = median_time(lambda: cutout.compute_cutout(studio), args.repeats)
        guided = median_time(lambda: cutout.compute_cutout(scene, guide=guide), args.repeats)
        load_start = time.perf_counter()
        learned.load_model(str(model_path))
        load = time.perf_counter() - load_start
        infer = median_time(lambda: learned.learned_cutout(scene.rgb, str(model_path)), args.repeats)
        scene_path = folder / "tote-on-wood.jpg"
        scene_path.write_bytes(incontext.jpeg(rgb))
        c_cut, c_total = share_of_run(incontext.FIXTURES / "01-sneaker-white-bg.jpg", folder)
        g_cut, g_total = share_of_run(scene_path, folder, guide=guide)
        rows = [
            (
                "classical (studio shot 01, 1600×1600)",
                classical,
                f"{c_cut:.2f} s of {c_total:.1f} s ({c_cut / c_total:.0%})",
            ),
            (
                "guided (tote on wood, 1600×1067, box)",
                guided,
                f"{g_cut:.2f} s of {g_total:.1f} s ({g_cut / g_total:.0%})",
            ),
            (
                f"learned (tote on wood), stand-in model of {gflop:.0f} GFLOP at 1024²",
                infer,
                f"≈ {infer / (g_total - g_cut + infer):.0%} (in place of the guided cutout)",
            ),
        ]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION,
        "",
        f"Written by `bench/cutout_bench.py` on {now}: {cpu_model()}, {os.cpu_count()} cores (shared with other "
        f"engineers' work), Python {platform.python_version()}, onnxruntime {learned_version()}. Median of "
        f"{args.repeats} runs per method; the share is one `run_pipeline` (what `make_video` runs): 5 s, 9:16, "
        "480p, compositor.",
        "",
        "| method | median time | share of one make_video run |",
        "|---|---|---|",
        *[f"| {name} | {seconds:.2f} s | {share} |" for name, seconds, share in rows],
        "",
        f"Loading the stand-in model (once per process): {load:.2f} s. Guided's goal is ≤ 2 s median for a 1600 px "
        "photo.",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write_doc:
        text = DOC.read_text()
        pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
        text = (
            pattern.sub(lambda _m: section + "\n\n", text, count=1)
            if pattern.search(text)
            else (text.rstrip("\n") + "\n\n" + section + "\n")
        )
        DOC.write_text(text)


def learned_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


if __name__ == "__main__":
    main()
