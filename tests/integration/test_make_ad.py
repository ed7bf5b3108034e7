"""make_ad end to end: one 15 s 9:16 480p ad from three photos of one product (a real sneaker photo, its mirror
image and a crop of it) with music (a 4.8 s loop of chords and a kick, made here), checked the way an outside
checker would: decode OUT.mp4 with PyAV, warp each shot's photo and mask with cv2 by OUT.json's placements, compute
PSNR here; measure the music's loudness with pyloudnorm and its kicks from how the loop repeats. None of our QA
code is used for that."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pyloudnorm
import pytest
from django.core.management import call_command
from PIL import Image, ImageOps

from generation.pipeline import audio, cutout, ingest
from generation.pipeline.ads.storyboard import plan_storyboard
from tests import audio_samples, incontext

pytestmark = pytest.mark.slow

ARGS = {"seconds": 15, "aspect": "9:16", "resolution": "480p", "seed": 7, "title": "Runner", "price": "89.00"}
MIN_PSNR = 38.0
BPM, LOOP_SECONDS = 100.0, 4.8  # a kick every 0.6 s; the loop holds 8 beats
AAC_FRAME = 1024 / 48_000


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
    music = audio_samples.write_wav(folder / "loop.wav", audio_samples.music(LOOP_SECONDS, 48_000, BPM), 48_000)
    beats = audio.beats(audio.prepare_track(music, 15))
    planned = plan_storyboard(
        rgb, mask_arrays, seconds=15, seed=ARGS["seed"], title=ARGS["title"], price=ARGS["price"], beats=beats
    ).to_dict()
    out = folder / "ad.mp4"
    options = [f"--{k}={v}" for k, v in ARGS.items()]
    call_command(
        "make_ad", *map(str, photos), "--out", str(out), "--masks", *map(str, masks), "--audio", str(music), *options
    )
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        video_seconds = float(stream.duration * stream.time_base)
        video = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(out)) as container:
        track = container.streams.audio[0]
        sound = {"codec": track.codec_context.name, "seconds": float(track.duration * track.time_base)}
        sound["rate"] = track.codec_context.sample_rate
        sound["samples"] = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1).T
    return {
        "out": out,
        "meta": json.loads(out.with_suffix(".json").read_text()),
        "planned": planned,
        "video": video,
        "codec": codec,
        "video_seconds": video_seconds,
        "sound": sound,
        "photos": rgb,
        "masks": mask_arrays,
    }


def test_several_shots_from_several_photos_and_an_end_card(ad):
    meta = ad["meta"]
    assert ad["codec"] == "h264" and len(ad["video"]) == meta["frames"]
    assert abs(meta["seconds"] - 15) <= 1 / meta["fps"] and abs(meta["frames"] / meta["fps"] - 15) <= 1 / meta["fps"]
    assert (meta["width"], meta["height"]) == (480, 832)
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


def test_each_photos_mask_is_written_beside_the_ad(ad):
    """OUT.mask<i>.png, one per PHOTO: the masks the product frames were locked with (here the --masks given),
    binary and at the photo's size, so that anyone can measure the product without our cutout."""
    assert ad["meta"]["masks"] == [f"ad.mask{i}.png" for i in range(3)]
    for i, given in enumerate(ad["masks"]):
        written = np.asarray(Image.open(ad["out"].with_name(f"ad.mask{i}.png")))
        assert written.shape == given.shape and set(np.unique(written)) <= {0, 255}
        assert np.array_equal(written > 127, given > 127)


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


def test_the_music_lies_under_the_whole_ad_at_minus_14_lufs(ad):
    sound, facts = ad["sound"], ad["meta"]["audio"]
    assert sound["codec"] == "aac" and sound["rate"] == 48_000
    assert abs(sound["seconds"] - ad["video_seconds"]) <= AAC_FRAME, (sound["seconds"], ad["video_seconds"])
    assert abs(len(sound["samples"]) / sound["rate"] - ad["video_seconds"]) <= AAC_FRAME
    measured = pyloudnorm.Meter(sound["rate"]).integrated_loudness(sound["samples"].astype(np.float64))
    assert measured == pytest.approx(-14.0, abs=1.0)
    assert facts["lufs"] == pytest.approx(-14.0, abs=0.2) and facts["true_peak"] <= -1.0
    assert facts["seconds"] == pytest.approx(15.0, abs=0.01)


def test_the_cuts_fall_on_the_kicks(ad):
    """Every hand-over (the middle of its transition) lands on a kick: the loop repeats every LOOP_SECONDS less the
    prepare stage's crossfade, each repetition kicking every 60/BPM s from its start."""
    meta = ad["meta"]
    repeat = LOOP_SECONDS - audio.prepare.LOOP_CROSSFADE_SECONDS
    kicks = np.array([r * repeat + k * 60 / BPM for r in range(4) for k in range(8)])
    fps, gaps = meta["fps"], {t["start"]: t["end"] - t["start"] for t in meta["transitions"]}
    cuts = [(s["end"] + gaps.get(s["end"], 0) / 2) / fps for s in meta["shots"][:-1]]
    assert len(cuts) >= 4
    misses = [float(np.abs(kicks - cut).min()) for cut in cuts]
    # the planner moves a cut at most 0.35 s and then rounds it to a frame; the kicks are 0.6 s apart, so a cut
    # left where it was would miss by up to 0.3 s
    assert max(misses) <= 1 / fps + 0.02, misses
