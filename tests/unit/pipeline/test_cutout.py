"""Stage 2 (cutout): the product mask, scored against the known masks of synthetic studio photos."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.pipeline.cutout import CutoutError, compute_cutout, load_mask
from generation.pipeline.ingest import ingest_photo
from tests import synthetic

MIN_IOU = 0.95
# Documented limit: a white product on a backdrop of almost the same brightness, after JPEG compression, where
# only a faint chroma difference (below JPEG's chroma noise) separates the bottle's neck from the backdrop.
KNOWN_LIMITS = {"bottle-white-on-gradient/JPEG": 0.85}


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def record(case: str, **figures) -> None:
    """Append measured figures to var/ so the report can quote them (never into the source tree)."""
    out = Path(os.environ.get("SHOPVIDEO_VAR_DIR", "var")) / "metrics" / "cutout.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as fh:
        fh.write(json.dumps({"case": case, **figures}) + "\n")


def cut(image: Image.Image, fmt: str = "PNG", **kwargs):
    photo = ingest_photo(encode(image, fmt, **kwargs))
    start = time.perf_counter()
    result = compute_cutout(photo)
    return result, time.perf_counter() - start


STUDIO_CASES = {
    "bottle-red-white": {"shape": "bottle", "colour": (200, 40, 50)},
    "shoe-black-gradient": {"shape": "shoe", "colour": (40, 40, 45), "background": "gradient", "extent": (0.7, 0.3)},
    "box-blue-offcentre": {"shape": "box", "colour": (40, 90, 190), "centre": (0.3, 0.35), "extent": (0.3, 0.3)},
    "round-yellow-gradient": {"shape": "round", "colour": (230, 200, 40), "background": "gradient"},
    "mug-green-gradient": {"shape": "mug", "colour": (40, 150, 90), "background": "gradient", "extent": (0.6, 0.4)},
    "round-purple-vignette": {"shape": "round", "colour": (120, 60, 160), "background": "grey"},
    "bottle-offcentre-right": {"shape": "bottle", "colour": (90, 60, 30), "centre": (0.72, 0.6)},
    # the hard ones: products that differ from the backdrop almost only in brightness, like their shadow does
    "mug-white-on-white": {"shape": "mug", "colour": (240, 240, 240), "extent": (0.6, 0.4)},
    "box-lightgrey-on-white": {"shape": "box", "colour": (225, 225, 228), "extent": (0.4, 0.4)},
    "bottle-white-on-gradient": {"shape": "bottle", "colour": (250, 250, 250), "background": "gradient"},
    "shoe-lightgrey-on-white": {"shape": "shoe", "colour": (215, 215, 215), "extent": (0.7, 0.3), "seed": 3},
}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("case", list(STUDIO_CASES))
def test_studio_photo_with_contact_shadow_is_cut_out(case, fmt):
    image, truth = synthetic.studio_photo(**STUDIO_CASES[case])
    result, seconds = cut(image, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    score = synthetic.iou(result.mask > 0, truth)
    record(f"{case}/{fmt}", iou=round(score, 4), seconds=round(seconds, 3), size=list(image.size))
    assert result.source == "segmented"
    assert score >= KNOWN_LIMITS.get(f"{case}/{fmt}", MIN_IOU), f"{case} {fmt}: IoU {score:.4f}"


@pytest.mark.parametrize("maker", ["product_on_white", "product_on_gradient"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_original_synthetic_photos_are_cut_out(maker, fmt):
    image, truth = getattr(synthetic, maker)()
    result, seconds = cut(image, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    score = synthetic.iou(result.mask > 0, truth)
    record(f"{maker}/{fmt}", iou=round(score, 4), seconds=round(seconds, 3))
    assert score >= MIN_IOU


@pytest.mark.parametrize(
    ("case", "most_included"),
    # a plain pale-grey box has the shadow's own tone at its base: a sliver of shadow may stay (documented limit)
    [("bottle-red-white", 0.02), ("mug-white-on-white", 0.02), ("box-lightgrey-on-white", 0.15)],
)
def test_contact_shadow_is_not_part_of_the_mask(case, most_included):
    params = STUDIO_CASES[case]
    image, truth = synthetic.studio_photo(**params)
    clean, _ = synthetic.studio_photo(**params, shadow=0)
    darkened = (np.asarray(clean, np.float32) - np.asarray(image, np.float32)).mean(axis=2) > 8
    shadow = darkened & ~truth
    assert shadow.sum() > 2000  # the photo really has a visible shadow
    result, _ = cut(image)
    assert (result.mask[shadow] > 0).mean() < most_included


def test_hole_in_the_product_stays_open():
    image, truth = synthetic.studio_photo("mug", (40, 150, 90), extent=(0.6, 0.4))
    result, _ = cut(image)
    hole = ~truth
    hole[:, : image.width // 2] = False  # the handle's opening lies in the right half, enclosed by the mug
    ys, xs = np.nonzero(truth)
    hole &= (np.arange(image.height)[:, None] > ys.min()) & (np.arange(image.height)[:, None] < ys.max())
    hole &= np.arange(image.width)[None, :] < xs.max()
    assert hole.sum() > 1000
    assert (result.mask[hole] > 0).mean() < 0.05


@pytest.mark.parametrize("case", ["bottle-red-white", "mug-white-on-white"])
def test_large_photo_is_cut_out_accurately_and_quickly(case):
    image, truth = synthetic.studio_photo(**STUDIO_CASES[case], width=3000, height=4000)
    photo = ingest_photo(encode(image, "JPEG", quality=90))
    start = time.perf_counter()
    result = compute_cutout(photo)
    seconds = time.perf_counter() - start
    score = synthetic.iou(result.mask > 0, truth)
    record(f"{case}/3000x4000", iou=round(score, 4), seconds=round(seconds, 3))
    assert result.mask.shape == (4000, 3000)
    assert score >= MIN_IOU
    # target is < 2 s on an idle machine; the bound leaves room for a CPU shared with other test runs
    assert seconds < 4.0


def test_mask_is_binary_at_photo_size():
    image, _ = synthetic.studio_photo(width=500, height=640)
    result, _ = cut(image)
    assert result.mask.shape == (640, 500) and result.mask.dtype == np.uint8
    assert set(np.unique(result.mask)) <= {0, 255}


def test_png_alpha_is_used_as_given():
    image, truth = synthetic.product_png_alpha()
    result, _ = cut(image)
    assert result.source == "alpha"
    assert np.array_equal(result.mask > 0, truth)


def test_opaque_png_is_segmented_not_taken_as_a_full_cutout():
    image, truth = synthetic.studio_photo()
    rgba = image.convert("RGBA")
    rgba.putpixel((0, 0), (255, 255, 255, 0))  # one transparent pixel: the alpha does not cut anything out
    result, _ = cut(rgba)
    assert result.source == "segmented"
    assert synthetic.iou(result.mask > 0, truth) >= MIN_IOU


def _other_mask(truth: np.ndarray) -> np.ndarray:
    other = np.zeros_like(truth)
    h, w = truth.shape
    other[h // 4 : h // 2, w // 4 : w // 2] = True
    return other


@pytest.mark.parametrize("photo_kind", ["alpha", "plain", "busy"])
def test_supplied_mask_wins(photo_kind):
    if photo_kind == "alpha":
        image, truth = synthetic.product_png_alpha()
    elif photo_kind == "plain":
        image, truth = synthetic.studio_photo()
    else:
        image, truth = synthetic.busy_scene()
    supplied = _other_mask(truth)
    photo = ingest_photo(encode(image))
    result = compute_cutout(photo, (supplied * 255).astype(np.uint8))
    assert result.source == "supplied"
    # Over a transparent photo the mask decides within its visible pixels (see the test below).
    expected = supplied & (photo.alpha > 0) if photo.alpha is not None else supplied
    assert expected.sum() > 0.2 * supplied.sum() and not np.array_equal(expected, truth)
    assert np.array_equal(result.mask > 0, expected)


def test_supplied_mask_at_half_size_is_scaled_to_the_photo():
    image, truth = synthetic.studio_photo(width=720, height=900)
    half = np.asarray(Image.fromarray((truth * 255).astype(np.uint8)).resize((360, 450), Image.Resampling.BILINEAR))
    result = compute_cutout(ingest_photo(encode(image)), half)
    assert result.mask.shape == truth.shape
    assert synthetic.iou(result.mask > 0, truth) > 0.98


def test_supplied_mask_of_another_shape_is_refused():
    image, _ = synthetic.studio_photo(width=720, height=900)
    with pytest.raises(CutoutError) as info:
        compute_cutout(ingest_photo(encode(image)), np.full((720, 900), 255, np.uint8))
    assert info.value.code == "mask_size_mismatch"


@pytest.mark.parametrize(("fill", "code"), [(0, "empty_mask"), (255, "mask_covers_photo")], ids=["empty", "everything"])
def test_degenerate_supplied_mask_is_refused(fill, code):
    image, _ = synthetic.studio_photo()
    with pytest.raises(CutoutError) as info:
        compute_cutout(ingest_photo(encode(image)), np.full((900, 720), fill, np.uint8))
    assert info.value.code == code


@pytest.mark.parametrize("background", ["white", "gradient"])
def test_photo_of_an_empty_backdrop_has_no_product(background):
    image, _ = synthetic.studio_photo(background=background, extent=(0.0, 0.0), shadow=0)
    with pytest.raises(CutoutError) as info:
        cut(image)
    assert info.value.code == "empty_mask"


def test_fully_transparent_png_is_an_empty_mask():
    with pytest.raises(CutoutError) as info:
        cut(Image.new("RGBA", (400, 400), (255, 255, 255, 0)))
    assert info.value.code == "empty_mask"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_busy_scene_is_refused_with_a_clear_code(seed):
    image, _ = synthetic.busy_scene(seed=seed)
    with pytest.raises(CutoutError) as info:
        cut(image)
    assert info.value.code == "background_not_plain"
    assert "background" in info.value.message


def test_busy_scene_with_alpha_uses_the_alpha():
    image, truth = synthetic.busy_scene()
    rgba = image.convert("RGBA")
    rgba.putalpha(Image.fromarray((truth * 255).astype(np.uint8)))
    result, _ = cut(rgba)
    assert result.source == "alpha" and np.array_equal(result.mask > 0, truth)


# ---------------------------------------------------------------------------------------------------------------
# load_mask


def test_load_mask_from_greyscale_png():
    _, truth = synthetic.studio_photo()
    mask = load_mask(encode(Image.fromarray((truth * 255).astype(np.uint8))))
    assert mask.dtype == np.uint8 and np.array_equal(mask > 0, truth)


def test_load_mask_from_transparent_png_uses_alpha():
    image, truth = synthetic.product_png_alpha()
    assert np.array_equal(load_mask(encode(image)) > 0, truth)


def test_load_mask_from_opaque_rgba_uses_brightness():
    _, truth = synthetic.studio_photo()
    rgba = Image.fromarray((truth * 255).astype(np.uint8)).convert("RGBA")
    assert np.array_equal(load_mask(encode(rgba)) > 0, truth)


def test_load_mask_applies_exif_orientation(tmp_path):
    stored = np.zeros((300, 400), np.uint8)
    stored[:100, :100] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "mask.jpg"
    Image.fromarray(stored).save(path, "JPEG", exif=exif, quality=95)
    mask = load_mask(path)
    assert mask.shape == (400, 300)
    assert np.array_equal(mask > 0, np.rot90(stored, k=-1) > 127)


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 20])
def test_load_mask_refuses_a_file_that_is_not_an_image(data):
    with pytest.raises(CutoutError) as info:
        load_mask(data)
    assert info.value.code == "bad_mask"


def test_a_supplied_mask_never_takes_fully_transparent_pixels_of_the_photo():
    image, truth = synthetic.product_png_alpha()
    photo = ingest_photo(encode(image))
    assert photo.alpha is not None
    brushed = (truth * 255).astype(np.uint8)
    brushed[:40, :60] = 255  # the merchant's brush went over the transparent corner (its pixels have no colour)
    result = compute_cutout(photo, brushed)
    assert result.source == "supplied"
    assert not (result.mask[photo.alpha == 0] > 0).any()
    assert np.array_equal(result.mask > 0, (brushed > 0) & (photo.alpha > 0))
    only_transparent = np.zeros_like(brushed)
    only_transparent[:40, :60] = 255
    with pytest.raises(CutoutError) as info:
        compute_cutout(photo, only_transparent)
    assert info.value.code == "empty_mask"
