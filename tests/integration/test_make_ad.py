"""make_ad end to end: one 15 s 9:16 480p ad from three photos of one product (a real sneaker photo, its mirror
image and a crop of it), checked the way an outside checker would: decode OUT.mp4 with PyAV, warp each shot's
photo and mask with cv2 by OUT.json's placements, compute PSNR here. None of our QA code is used for that."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image, ImageOps

from generation.pipeline import cutout, ingest
from generation.pipeline.ads.storyboard import plan_storyboard
from tests import incontext

pytestmark = pytest.mark.slow

ARGS = {"seconds": 15, "aspect": "9:16", "resolution": "480p", "seed": 7, "title": "Runner", "price": "89.00"}
MIN_PSNR = 38.0


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else min(99.0, 10 * np.log10(255.0**2 / mse))


@pytest.fixture(scope="module")
def ad(tmp_path_factory) -> dict:
    folder = Path(tmp_path_factory.mktemp("make_ad"))
    # The photo as it is (1600 px: room for a close-up that never enlarges it), its mirror image and a crop; the
    # photo's cutout made once and mirrored and cropped with it, passed as --masks as a merchant's masks would be.
    shoe = incontext.FIXTURES / "01-sneaker-white-bg.jpg"
    mask = Image.fromarray(cutout.compute_cutout(ingest.ingest_photo(shoe)).mask)
    image = Image.open(shoe).convert("RGB")
    crop = (120, 200, 1520, 1400)
    variants = [(image, mask), (ImageOps.mirror(image), ImageOps.mirror(mask)), (image.crop(crop), mask.crop(crop))]
    photos, masks = [], []
    for i, (photo, photo_mask) in enumerate(variants):
        photos.append(folder / f"photo{i}.png")
        photo.save(photos[-1], compress_level=1)
        masks.append(folder / f"mask{i}.png")
        photo_mask.save(masks[-1])
    rgb = [np.asarray(Image.open(p).convert("RGB")) for p in photos]
    mask_arrays = [np.asarray(Image.open(m)) for m in masks]
    planned = plan_storyboard(
        rgb, mask_arrays, seconds=15, seed=ARGS["seed"], title=ARGS["title"], price=ARGS["price"]
    ).to_dict()
    out = folder / "ad.mp4"
    options = [f"--{k}={v}" for k, v in ARGS.items()]
    call_command("make_ad", *map(str, photos), "--out", str(out), "--masks", *map(str, masks), *options)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        video = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return {
        "out": out,
        "meta": json.loads(out.with_suffix(".json").read_text()),
        "planned": planned,
        "video": video,
        "codec": codec,
        "photos": rgb,
        "masks": mask_arrays,
    }


def test_several_shots_from_several_photos_and_an_end_card(ad):
    meta = ad["meta"]
    assert ad["codec"] == "h264" and len(ad["video"]) == meta["frames"]
    assert abs(meta["seconds"] - 15) <= 1 / meta["fps"] and abs(meta["frames"] / meta["fps"] - 15) <= 1 / meta["fps"]
    assert (meta["width"], meta["height"]) == (480, 832) and meta["audio"] is None
    product = [s for s in meta["shots"] if s["kind"] != "endcard"]
    assert len(product) >= 3 and len({s["photo"] for s in product}) >= 2
    assert meta["shots"][-1]["kind"] == "endcard" and meta["shots"][-1]["end"] == meta["frames"]
    assert meta["shots"][0]["start"] == 0
    for shot, following in zip(meta["shots"], meta["shots"][1:]):
        assert shot["start"] < shot["end"] <= following["start"]  # no overlap; the gap is a transition
        assert following["start"] - shot["end"] <= 8
    assert meta["qa_passed"] is True and meta["credentials"]["signed"] is True
    assert meta["export_check"]["passed"] is True
    assert ad["out"].with_suffix(".poster.jpg").is_file()


def test_every_frame_of_every_product_shot_is_the_photo(ad):
    meta, video = ad["meta"], ad["video"]
    size = (meta["width"], meta["height"])
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    measured = 0
    for shot in meta["shots"]:
        if shot["placements"] is None:
            continue
        photo, mask = ad["photos"][shot["photo"]], ad["masks"][shot["photo"]]
        assert len(shot["placements"]) == shot["end"] - shot["start"]
        for frame, placement in zip(video[shot["start"] : shot["end"]], shot["placements"], strict=True):
            m = np.array(placement, np.float64)
            want = cv2.warpAffine(photo, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            region = cv2.erode(cv2.warpAffine(mask, m, size, flags=cv2.INTER_NEAREST), kernel) > 0
            assert region.sum() > 2000
            value = _psnr(frame[region], want[region])
            assert value >= MIN_PSNR, (shot["kind"], value)
            measured += 1
    assert measured >= 0.8 * meta["frames"]


def test_the_storyboard_planned_first_is_the_one_rendered(ad):
    planned, shots = ad["planned"]["shots"], ad["meta"]["shots"]
    assert [(s["kind"], s["photo"], s["start"], s["end"]) for s in planned] == [
        (s["kind"], s["photo"], s["start"], s["end"]) for s in shots
    ]
    for a, b in zip(planned, shots, strict=True):
        assert np.array_equal(np.array(a["placements"]), np.array(b["placements"]))


def test_the_close_up_never_enlarges_the_photo(ad):
    details = [s for s in ad["meta"]["shots"] if s["kind"] == "detail"]
    assert details
    for shot in details:
        a = np.array(shot["placements"])[:, :, :2]
        assert np.linalg.svd(a, compute_uv=False).max() <= 1.0 + 1e-9  # ≤ 1 output pixel per photo pixel
        for whole in ad["meta"]["shots"]:
            if whole["photo"] == shot["photo"] and whole["kind"] in ("hero", "angle", "scene"):
                b = np.array(whole["placements"])[:, :, :2]
                # closer than any whole-product shot of the same photo
                assert np.linalg.svd(a, compute_uv=False).min() > np.linalg.svd(b, compute_uv=False).max()
