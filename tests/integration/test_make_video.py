"""make_video end to end, checked the way an outside checker would: decode the MP4 with PyAV, warp the original
photo with cv2.warpAffine by each frame's placement from OUT.json, and compare the product region (OUT.mask.png
warped the same way, nearest-neighbour, eroded by 2 px). None of our QA code is used here."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image, ImageOps

from generation.constants import FRAME_SIZES
from generation.engines.base import RenderRequest
from generation.pipeline import run as run_module
from generation.pipeline.run import run_pipeline
from generation.pipeline.spec import VariantSpec
from tests import synthetic

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {"engine", "width", "height", "fps", "frames", "photo_size", "placements", "qa"}
MIN_PSNR = 38.0


@pytest.fixture
def workdir(settings, tmp_path_factory) -> Path:
    return Path(tmp_path_factory.mktemp("make_video", numbered=True))


def _photo(kind: str, folder: Path) -> Path:
    if kind == "alpha":
        # 400×500: the label's 2 px strokes land on ~1.6 frame px. At 1:1 or smaller, this saturated green bottle
        # with blue-on-cream print is bounded below 38 dB by 4:2:0 itself on some frames (measured: 37.6 dB with no
        # codec at all, LS-optimal chroma), whatever the encoder does: see encode.py.
        path = folder / "alpha.png"
        synthetic.product_png_alpha(400, 500)[0].save(path)
    elif kind == "white":
        path = folder / "white.jpg"
        synthetic.product_on_white()[0].save(path, quality=92)
    elif kind == "gradient":
        path = folder / "gradient.jpg"
        synthetic.product_on_gradient()[0].save(path, quality=92)
    elif kind == "wide":  # a low, wide product: the 16:9 case
        path = folder / "wide.jpg"
        synthetic.product_on_white(width=960, height=600, seed=3)[0].save(path, quality=92)
    elif kind == "exif":  # stored sideways, displayed upright by its EXIF orientation
        path = folder / "exif.jpg"
        upright = synthetic.product_on_white(seed=4)[0]
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90° clockwise to display
        upright.transpose(Image.Transpose.ROTATE_90).save(path, quality=92, exif=exif)
    else:
        raise ValueError(kind)
    return path


def _make(photo: Path, out: Path, *args: str) -> dict:
    call_command("make_video", str(photo), "--out", str(out), *args)
    return json.loads(out.with_suffix(".json").read_text())


def _decode(path: Path) -> tuple[np.ndarray, av.video.stream.VideoStream]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
        return frames, stream


def _product_psnr(photo_path: Path, out: Path, meta: dict, erode: int = 2) -> list[float]:
    """PSNR of every decoded frame's product region against the EXIF-upright photo warped by its placement."""
    photo = np.array(ImageOps.exif_transpose(Image.open(photo_path)).convert("RGB"))
    mask = np.array(Image.open(out.with_suffix("").with_suffix(".mask.png")))
    assert photo.shape[1::-1] == tuple(meta["photo_size"]) == mask.shape[::-1]
    video, _ = _decode(out)
    assert len(video) == meta["frames"] == len(meta["placements"])
    size = (meta["width"], meta["height"])
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1))
    values = []
    for frame, placement in zip(video, meta["placements"], strict=True):
        m = np.array(placement, np.float64)
        want = cv2.warpAffine(photo, m, size, flags=cv2.INTER_LINEAR)
        region = cv2.erode(cv2.warpAffine(mask, m, size, flags=cv2.INTER_NEAREST), kernel) > 0
        assert region.sum() > 2000
        mse = np.mean((frame[region].astype(np.float64) - want[region]) ** 2)
        values.append(min(99.0, 10 * np.log10(255.0**2 / mse)) if mse else 99.0)
    return values


@pytest.mark.parametrize(
    ("kind", "aspect", "motion"),
    [
        ("alpha", "9:16", "push-in"),
        ("white", "1:1", "orbit-sway"),
        ("gradient", "4:5", "pan"),
        ("wide", "16:9", "reveal"),
        ("exif", "9:16", "orbit-sway"),
    ],
)
def test_every_frame_is_the_merchants_product(workdir, kind, aspect, motion):
    photo = _photo(kind, workdir)
    out = workdir / f"{kind}.mp4"
    meta = _make(photo, out, "--aspect", aspect, "--motion", motion, "--seconds", "1", "--seed", "2")
    assert (meta["width"], meta["height"]) == FRAME_SIZES["480p"][aspect]
    values = _product_psnr(photo, out, meta)
    assert min(values) >= MIN_PSNR, values
    # A checker that erodes by one pixel only sees the same: the lock is exact up to the silhouette.
    assert min(_product_psnr(photo, out, meta, erode=1)) >= MIN_PSNR - 0.5
    # Our own QA (measured on the decoded MP4) agrees with this independent measurement.
    assert meta["qa"]["psnr_min"] == pytest.approx(min(values), abs=0.3)
    assert meta["qa_passed"] is True


def test_five_seconds_output_contract(workdir):
    photo = _photo("white", workdir)
    out = workdir / "five.mp4"
    meta = _make(photo, out)  # defaults: 9:16, 480p, 5 s, 16 fps
    assert meta.keys() >= CONTRACT_KEYS
    assert (meta["engine"], meta["width"], meta["height"], meta["fps"], meta["frames"]) == (
        "compositor",
        480,
        832,
        16,
        81,
    )
    placements = np.array(meta["placements"])
    assert placements.shape == (81, 2, 3)
    qa = meta["qa"]
    assert {"psnr_min", "psnr_mean", "ssim_min", "flicker"} <= qa.keys()
    assert MIN_PSNR <= qa["psnr_min"] <= qa["psnr_mean"] <= 99.0 and 0.95 <= qa["ssim_min"] <= 1.0
    assert qa["flicker"] >= 0.0
    # The MP4: H.264 High, yuv420p, 81 frames at 16 fps, moov before mdat (+faststart), even size.
    data = out.read_bytes()
    boxes, i = [], 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        boxes.append(data[i + 4 : i + 8])
        i += int.from_bytes(data[i + 8 : i + 16], "big") if size == 1 else max(size, 8)
    assert boxes.index(b"moov") < boxes.index(b"mdat")
    video, stream = _decode(out)
    assert video.shape == (81, 832, 480, 3)
    assert stream.codec_context.name == "h264" and stream.codec_context.profile == "High"
    assert stream.codec_context.pix_fmt == "yuv420p" and stream.average_rate == 16
    assert min(_product_psnr(photo, out, meta)) >= MIN_PSNR
    # The mask: binary, at the photo's size. Poster and preview beside the video.
    mask = np.array(Image.open(workdir / "five.mask.png"))
    assert set(np.unique(mask)) <= {0, 255} and mask.shape[::-1] == tuple(meta["photo_size"])
    assert Image.open(workdir / "five.poster.jpg").size == (480, 832)
    assert _decode(workdir / "five.preview.mp4")[0].shape[0] == 81
    # Nothing half-written is left beside them.
    assert not list(workdir.glob(".*.part"))
    assert meta["timings"]["total"] > 0 and {"fidelity", "encode", "qa"} <= meta["timings"].keys()


def test_sizes_and_frame_counts(workdir):
    for resolution, sizes in FRAME_SIZES.items():
        for aspect, (width, height) in sizes.items():
            spec = VariantSpec(aspect_ratio=aspect, resolution=resolution, seconds=5)
            assert (spec.width, spec.height, spec.frames) == (width, height, 81)
            assert width % 16 == 0 and height % 16 == 0
    photo = _photo("alpha", workdir)
    # Real (short) runs: the MP4 has the size the contract gives.
    for resolution, aspect in (("720p", "16:9"), ("480p", "4:5")):
        width, height = FRAME_SIZES[resolution][aspect]
        out = workdir / f"{resolution}-{aspect.replace(':', 'x')}.mp4"
        meta = _make(photo, out, "--aspect", aspect, "--resolution", resolution, "--seconds", "0.25")
        assert (meta["width"], meta["height"], meta["frames"]) == (width, height, 5)
        video, _ = _decode(out)
        assert video.shape == (5, height, width, 3)
    out = workdir / "odd-duration.mp4"
    meta = _make(photo, out, "--seconds", "2.3", "--fps", "12")
    assert meta["frames"] == 4 * round(2.3 * 12 / 4) + 1 == 29
    assert len(_decode(out)[0]) == 29


def test_supplied_mask_wins_over_the_cutout(workdir):
    photo = _photo("white", workdir)
    supplied = np.zeros((900, 720), np.uint8)
    supplied[300:700, 200:520] = 255  # deliberately not the bottle's silhouette
    mask_path = workdir / "mask.png"
    Image.fromarray(supplied).save(mask_path)
    out = workdir / "masked.mp4"
    meta = _make(photo, out, "--mask", str(mask_path), "--seconds", "0.25")
    assert meta["mask_source"] == "supplied"
    assert np.array_equal(np.array(Image.open(workdir / "masked.mask.png")), supplied)
    assert min(_product_psnr(photo, out, meta)) >= MIN_PSNR


def test_bad_photo_fails_with_its_code_and_leaves_nothing(workdir):
    bad = workdir / "not-a-photo.jpg"
    bad.write_text("this is not an image")
    out = workdir / "bad.mp4"
    with pytest.raises(CommandError, match="not_an_image"):
        call_command("make_video", str(bad), "--out", str(out))
    assert sorted(p.name for p in workdir.iterdir()) == ["not-a-photo.jpg"]
    with pytest.raises(CommandError, match="photo_not_found"):
        call_command("make_video", str(workdir / "missing.jpg"), "--out", str(out))


def test_bad_flags_are_refused_clearly(workdir):
    photo = _photo("alpha", workdir)
    with pytest.raises(CommandError, match="bad_output"):
        call_command("make_video", str(photo), "--out", str(workdir / "x.mov"))
    with pytest.raises(CommandError, match="3:2"):
        call_command("make_video", str(photo), "--out", str(workdir / "x.mp4"), "--aspect", "3:2")
    with pytest.raises(CommandError, match="bad_duration"):
        call_command("make_video", str(photo), "--out", str(workdir / "x.mp4"), "--seconds", "0")
    assert not list(workdir.glob("x*"))


class ColourShiftEngine:
    """A test double for an engine that draws the product itself, wrongly (its colours shifted)."""

    name = "colour-shift"

    def render(self, request: RenderRequest) -> np.ndarray:
        frames = np.full((request.frames, request.height, request.width, 3), 200, np.uint8)
        shifted = np.clip(request.photo_rgb.astype(int) + np.array([40, -30, 20]), 0, 255).astype(np.uint8)
        for i, m in enumerate(request.layout.placements):
            drawn = cv2.warpAffine(shifted, m, (request.width, request.height), flags=cv2.INTER_LINEAR)
            inside = cv2.warpAffine(request.mask, m, (request.width, request.height), flags=cv2.INTER_NEAREST) > 0
            frames[i][inside] = drawn[inside]
        return frames


def test_qa_catches_a_wrong_product_retries_and_marks_it(workdir, monkeypatch):
    monkeypatch.setattr(run_module, "get_engine", lambda name, path="": ColourShiftEngine())
    monkeypatch.setattr(run_module.fidelity, "lock_frames", lambda frames, photo, mask, placements, matte=None: None)
    photo = _photo("alpha", workdir)
    out = workdir / "wrong.mp4"
    stages = []
    result = run_pipeline(
        photo=photo,
        out_path=out,
        spec=VariantSpec(seconds=0.5, seed=7),
        on_progress=lambda stage, fraction: stages.append(fraction),
    )
    assert result.qa_passed is False and result.attempts == 2
    assert result.qa.psnr_min < 25.0 and result.qa.psnr_min == pytest.approx(min(result.qa.psnr_per_frame), abs=1e-3)
    meta = json.loads(result.json_path.read_text())
    assert meta["qa_passed"] is False and meta["seed"] in (7, 8)
    assert result.video_path.exists() and not list(workdir.glob(".*.part"))
    assert stages == sorted(stages) and stages[-1] == 1.0
