"""The photo page's live cutout preview: how long one preview takes on a 1600 px photo (goal: about a second).

One preview = decode the stored photo + the guided cut on a copy at most PREVIEW_SIDE px long + the overlay
PNG (generation.photo_cutouts.preview_overlay, without the HTTP round trip). The photo is an in-context scene
(a product on a cluttered background) with the product's box padded by 6 %, as a merchant would drag it.

    PYTHONPATH=. .venv/bin/python bench/cutout_preview.py [--runs 7] [--side 1600]
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
# A benchmark serves nothing and keeps nothing signed: a throwaway key, unless one is set.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
django.setup()

import numpy as np  # noqa: E402

from generation import photo_cutouts  # noqa: E402
from generation.pipeline import ingest  # noqa: E402
from tests import synthetic  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--side", type=int, default=1600, help="the photo's longer side (4:5 portrait)")
    args = parser.parse_args()
    height, width = args.side, args.side * 4 // 5
    image, truth = synthetic.busy_scene(width=width, height=height, seed=0)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    ys, xs = np.nonzero(truth)
    pad_x, pad_y = 0.06 * (xs.max() - xs.min()), 0.06 * (ys.max() - ys.min())
    box = [xs.min() - pad_x, ys.min() - pad_y, xs.max() + pad_x, ys.max() + pad_y]
    decode, cut = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        photo_in = ingest.ingest_photo(data)
        decoded = time.perf_counter()
        photo_cutouts.overlay_png(photo_in, box)
        done = time.perf_counter()
        decode.append(decoded - started)
        cut.append(done - decoded)
    total = [a + b for a, b in zip(decode, cut, strict=True)]
    print(f"photo {width}x{height}, preview side {photo_cutouts.PREVIEW_SIDE}, {args.runs} runs (median):")
    print(f"  decode {statistics.median(decode):.3f} s, cut + overlay {statistics.median(cut):.3f} s, ", end="")
    print(f"one preview {statistics.median(total):.3f} s (max {max(total):.3f} s)")


if __name__ == "__main__":
    main()
