"""Captions in real videos: never over the product, out of the platform's UI zones, fidelity still ≥ 38 dB."""

import json

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from generation.pipeline import qa
from generation.pipeline.encode import decode_mp4
from generation.pipeline.fidelity import MARGIN
from generation.pipeline.layout import frame_extent, mask_bbox
from generation.pipeline.platforms import PLATFORMS, check_export
from generation.pipeline.run import run_pipeline
from generation.pipeline.spec import VariantSpec


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    ("market", "aspect", "platform", "motion"),
    [("de", "9:16", "tiktok", "reveal"), ("sa", "16:9", "youtube", "pan"), ("jp", "4:5", "feed", "push-in")],
)
def test_captions_stay_off_the_product_and_the_ui_zones(photo, workdir, market, aspect, platform, motion):
    spec = VariantSpec(
        market=market,
        aspect_ratio=aspect,
        seconds=1.5,
        fps=16,
        motion=motion,
        seed=2,
        captions=True,
        product_title="Leather backpack Aurora",
        price="19.99",
        platform=platform,
    )
    result = run_pipeline(photo=photo, out_path=workdir / "captioned.mp4", spec=spec, qa_retries=0)
    cap = result.captions
    rect, safe = cap["rect"], cap["safe_rect"]
    # Geometry: the product's box (grown by the lock's edge margin) never meets the caption, in any frame …
    mask = np.asarray(Image.open(result.mask_path)) > 0
    ext = frame_extent(result.placements, mask_bbox(mask))
    for i, box in enumerate(ext):
        grown = (box[0] - MARGIN, box[1] - MARGIN, box[2] + MARGIN + 1, box[3] + MARGIN + 1)
        assert not _overlaps(rect, grown), f"frame {i}: caption {rect} meets the product {grown}"
    # … and the caption is inside the safe area, i.e. outside the platform's interface zones.
    zones = PLATFORMS[platform].ui_zones
    assert rect[0] >= zones.left * spec.width and rect[2] <= spec.width * (1 - zones.right)
    assert rect[1] >= zones.top * spec.height and rect[3] <= spec.height * (1 - zones.bottom)
    assert safe[0] <= rect[0] and safe[2] >= rect[2]
    # Pixels: the product region of the decoded MP4 is still the photo (≥ 38 dB in every frame) …
    assert result.qa_passed and result.qa.psnr_min >= 38.0
    video = decode_mp4(result.video_path)
    # … and the caption really is in the video: a dark plate with bright text inside its rectangle, from the middle
    # frame on (it fades in), and the product region pixels never fall inside the caption's rectangle.
    x0, y0, x1, y1 = rect
    mid = video[len(video) // 2]
    plate = mid[y0:y1, x0:x1].astype(np.float32)
    assert plate.mean() < 110 and (plate.min(axis=2) > 200).mean() > 0.02
    photo_rgb = np.asarray(Image.open(photo).convert("RGB"))
    for placement in result.placements[:: max(1, len(video) // 6)]:
        region = qa.product_region(mask.astype(np.uint8) * 255, placement, (spec.width, spec.height))
        assert not region[y0:y1, x0:x1].any()
    assert photo_rgb.shape[:2] == mask.shape
    assert check_export(result.video_path, platform) == []
    contract = json.loads(result.json_path.read_text())
    assert contract["captions"]["rect"] == list(rect) and contract["platform"] == platform
    assert contract["captions"]["price"] == result.captions["price"] != ""


def test_the_caption_is_off_by_default(photo, workdir):
    result = run_pipeline(photo=photo, out_path=workdir / "plain.mp4", spec=VariantSpec(seconds=1.0), qa_retries=0)
    assert result.captions is None and json.loads(result.json_path.read_text())["captions"] is None


def test_make_video_takes_caption_flags(photo, workdir):
    out = workdir / "cli.mp4"
    call_command(
        "make_video",
        str(photo),
        "--out",
        str(out),
        "--seconds",
        "1",
        "--market",
        "jp",
        "--captions",
        "--title",
        "Leather backpack",
        "--caption-title",
        "本革リュック",
        "--price",
        "2000",
        "--platform",
        "shorts",
    )
    contract = json.loads(out.with_suffix(".json").read_text())
    assert contract["platform"] == "shorts"
    assert contract["captions"]["title"] == "本革リュック" and contract["captions"]["price"] == "￥2,000"
    assert check_export(out, "shorts") == []
