"""Stage 1 (ingest): hostile uploads are refused with stable codes; unusual but valid photos come out as sRGB."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from generation.pipeline.errors import BadInputError
from generation.pipeline.ingest import IngestError, ingest_photo
from tests import synthetic


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def photo(width: int = 400, height: int = 300, colour=(200, 60, 40)) -> Image.Image:
    return Image.new("RGB", (width, height), colour)


def cv2_png(array: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", array)
    assert ok
    return buf.tobytes()


def refused(data, code: str) -> IngestError:
    with pytest.raises(IngestError) as info:
        ingest_photo(data)
    assert info.value.code == code, info.value.message
    assert isinstance(info.value, BadInputError)
    assert info.value.message
    return info.value


# ---------------------------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"", "empty_file", id="empty"),
        pytest.param(b"\x00\x01garbage" * 100, "not_an_image", id="random-bytes"),
        pytest.param(b"name,price\nmug,12\n" * 50, "not_an_image", id="csv-text"),
        pytest.param(lambda: encode(photo(1, 1), "PNG"), "image_too_small", id="1x1"),
        pytest.param(lambda: encode(photo(1000, 200), "JPEG"), "image_too_small", id="thin-1000x200"),
        pytest.param(lambda: encode(Image.new("L", (20_000, 300)), "PNG"), "image_too_large", id="20000-wide"),
        pytest.param(lambda: encode(photo(), "GIF"), "unsupported_format", id="gif"),
        pytest.param(lambda: encode(photo(), "BMP"), "unsupported_format", id="bmp"),
    ],
)
def test_bad_upload_is_refused_with_its_code(data, code):
    refused(data() if callable(data) else data, code)


def test_text_file_with_an_image_extension_is_not_an_image(tmp_path):
    path = tmp_path / "product.jpg"
    path.write_text("this is not a photo of anything\n" * 20)
    refused(path, "not_an_image")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_file_cut_in_half_is_truncated(fmt):
    image, _ = synthetic.product_on_white(600, 700)
    data = encode(image, fmt)
    refused(data[: len(data) // 2], "truncated_image")


def test_truncated_jpeg_is_refused_even_when_pillow_is_told_to_load_truncated_images(monkeypatch):
    # Some library in the same process may switch this global on; ingest must not silently accept grey halves.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    image, _ = synthetic.product_on_white(600, 700)
    data = encode(image, "JPEG", quality=90)
    refused(data[: len(data) // 2], "truncated_image")


def test_pillow_truncated_images_flag_is_off_by_default():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (65_000, 65_000), (10_000, 10_000)])
def test_decompression_bomb_is_refused_before_decoding(width, height):
    data = synthetic.png_declaring(width, height)
    assert len(data) < 50_000  # a small file …
    tracemalloc.start()
    start = time.perf_counter()
    try:
        refused(data, "decompression_bomb")
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # … refused quickly and without allocating the pixels it declares (30000² would be 900 MB)
    assert elapsed < 0.5
    assert peak < 20 * 1024 * 1024


def test_bomb_is_refused_even_if_pillows_own_guard_is_disabled(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    refused(synthetic.png_declaring(30_000, 30_000), "decompression_bomb")


def test_error_message_is_translatable_text_without_internal_details():
    err = refused(encode(photo(1, 1), "PNG"), "image_too_small")
    assert "1×1" in err.message and "256" in err.message


# ---------------------------------------------------------------------------------------------------------------
# Valid photos: sources, checksum, format


@pytest.mark.parametrize("kind", ["bytes", "path", "file"])
def test_ingest_accepts_bytes_paths_and_file_objects(kind, tmp_path):
    data = encode(photo(), "PNG")
    source = {"bytes": lambda: data, "path": lambda: tmp_path / "p.png", "file": lambda: io.BytesIO(data)}
    (tmp_path / "p.png").write_bytes(data)
    result = ingest_photo(source[kind]())
    assert result.size == (400, 300)
    assert result.rgb.shape == (300, 400, 3) and result.rgb.dtype == np.uint8
    assert result.checksum == hashlib.sha256(data).hexdigest()
    assert result.format == "PNG"
    assert tuple(result.rgb[10, 10]) == (200, 60, 40)
    assert result.alpha is None


def test_cmyk_jpeg_without_profile_keeps_known_colours():
    cmyk = Image.new("CMYK", (400, 300), (0, 255, 255, 0))  # pure red ink mix
    cmyk.paste((255, 0, 255, 0), (200, 0, 400, 300))  # cyan + yellow = green
    result = ingest_photo(encode(cmyk, "JPEG", quality=95))
    assert result.source_mode == "CMYK"
    assert result.rgb.dtype == np.uint8 and result.rgb.shape == (300, 400, 3)
    np.testing.assert_allclose(result.rgb[150, 50], (255, 0, 0), atol=8)
    np.testing.assert_allclose(result.rgb[150, 350], (0, 255, 0), atol=8)


def test_rgb_16bit_png_is_scaled_to_8_bit_not_clipped():
    ramp = np.linspace(0, 65535, 400, dtype=np.float64)
    rgb16 = np.zeros((300, 400, 3), np.uint16)
    rgb16[..., 0] = ramp.astype(np.uint16)  # red: full ramp
    rgb16[..., 1] = (ramp / 2).astype(np.uint16)  # green: half ramp
    rgb16[..., 2] = 200  # blue: very dark, would read as 200 if values were clipped instead of scaled
    result = ingest_photo(cv2_png(rgb16[..., ::-1].copy()))  # OpenCV writes BGR
    expected = np.round(rgb16.astype(np.float64) / 257.0)
    assert np.abs(result.rgb.astype(np.float64) - expected).max() <= 1
    assert result.rgb[:, -1, 0].min() == 255 and result.rgb[:, :, 2].max() <= 1


def test_grey_16bit_png_is_scaled_to_8_bit_grey():
    grey16 = np.tile(np.linspace(0, 65535, 400).astype(np.uint16), (300, 1))
    grey16[:, :50] = 240  # dark, below 256: must stay near black, not become mid-grey
    result = ingest_photo(cv2_png(grey16))
    expected = np.round(grey16.astype(np.float64) / 257.0)
    for c in range(3):
        assert np.abs(result.rgb[..., c].astype(np.float64) - expected).max() <= 1
    assert result.rgb[:, :50].max() <= 1 and result.rgb[:, -1].min() == 255


def test_rgba_16bit_png_keeps_its_alpha():
    rgba16 = np.full((300, 400, 4), 40000, np.uint16)
    rgba16[..., 3] = 0
    rgba16[100:200, 100:300, 3] = 65535
    result = ingest_photo(cv2_png(rgba16))
    assert result.alpha is not None
    assert result.alpha[150, 200] == 255 and result.alpha[10, 10] == 0
    np.testing.assert_allclose(result.rgb[150, 200], (156, 156, 156), atol=1)


def _marked(width: int = 400, height: int = 300) -> np.ndarray:
    """A stored (pre-rotation) picture with a red block top-left and a blue block bottom-right."""
    arr = np.full((height, width, 3), 230, np.uint8)
    arr[:60, :80] = (220, 20, 20)
    arr[-60:, -80:] = (20, 20, 220)
    return arr


@pytest.mark.parametrize(
    ("orientation", "rotate_k"),
    [(3, 2), (6, -1), (8, 1)],  # np.rot90 k: positive = counter-clockwise
)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_orientation_is_applied(orientation, rotate_k, fmt):
    stored = _marked()
    exif = Image.Exif()
    exif[0x0112] = orientation
    kwargs = {"quality": 95} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    result = ingest_photo(encode(Image.fromarray(stored), fmt, exif=exif, **kwargs))
    expected = np.rot90(stored, k=rotate_k)
    assert result.rgb.shape == expected.shape
    assert result.orientation == orientation
    assert result.format == fmt  # the format survives the rotation (it did not before)
    assert np.abs(result.rgb.astype(int) - expected.astype(int)).mean() < 3
    if orientation in (6, 8):
        assert result.size == (300, 400)


def test_png_alpha_is_returned_as_given():
    image, mask = synthetic.product_png_alpha()
    result = ingest_photo(encode(image, "PNG"))
    assert result.alpha is not None
    assert np.array_equal(result.alpha > 127, mask)


def test_opaque_alpha_channel_is_dropped():
    result = ingest_photo(encode(photo().convert("RGBA"), "PNG"))
    assert result.alpha is None


@pytest.mark.parametrize(
    ("kwargs", "with_alpha"),
    [({"lossless": True}, True), ({"quality": 90}, True), ({"quality": 90}, False)],
)
def test_webp_with_and_without_alpha(kwargs, with_alpha):
    image, mask = synthetic.product_png_alpha()
    if not with_alpha:
        image = image.convert("RGB")
    result = ingest_photo(encode(image, "WEBP", **kwargs))
    assert result.format == "WEBP"
    assert result.size == image.size
    if with_alpha:
        assert result.alpha is not None
        assert ((result.alpha > 127) == mask).mean() > 0.995
    else:
        assert result.alpha is None


def test_palette_png_with_transparency():
    image = Image.new("P", (400, 300), 0)
    image.putpalette([255, 255, 255, 200, 30, 30] + [0] * 762)
    image.paste(1, (100, 100, 300, 200))
    result = ingest_photo(encode(image, "PNG", transparency=0))
    assert result.source_mode == "P"
    assert result.alpha is not None
    assert result.alpha[150, 200] == 255 and result.alpha[10, 10] == 0
    assert tuple(result.rgb[150, 200]) == (200, 30, 30)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_greyscale_photo_becomes_rgb(fmt):
    grey = Image.fromarray(np.tile(np.linspace(0, 255, 400).astype(np.uint8), (300, 1)), "L")
    result = ingest_photo(encode(grey, fmt))
    assert result.rgb.shape == (300, 400, 3)
    assert np.array_equal(result.rgb[..., 0], result.rgb[..., 1])
    assert np.abs(result.rgb[..., 0].astype(int) - np.asarray(grey, int)).max() <= 2


def test_greyscale_with_alpha_la_png():
    la = Image.merge("LA", (Image.new("L", (400, 300), 90), Image.new("L", (400, 300), 0)))
    la.paste((90, 255), (50, 50, 150, 150))
    result = ingest_photo(encode(la, "PNG"))
    assert result.alpha is not None and result.alpha[100, 100] == 255 and result.alpha[200, 300] == 0
    assert tuple(result.rgb[100, 100]) == (90, 90, 90)


def test_greyscale_png_with_transparent_colour_key():
    grey = Image.new("L", (400, 300), 0)
    grey.paste(180, (100, 100, 300, 200))
    result = ingest_photo(encode(grey, "PNG", transparency=0))
    assert result.alpha is not None and result.alpha[150, 150] == 255 and result.alpha[5, 5] == 0


def test_heic_photo_is_decoded():
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    image = photo(480, 320, (200, 60, 40))
    result = ingest_photo(encode(image, "HEIF", quality=95))
    assert result.format == "HEIF"
    assert result.size == (480, 320)
    np.testing.assert_allclose(result.rgb[160, 240], (200, 60, 40), atol=6)


@pytest.mark.parametrize(
    ("space", "fmt"),
    [("ADOBE_RGB", "PNG"), ("DISPLAY_P3", "PNG"), ("ADOBE_RGB", "JPEG"), ("DISPLAY_P3", "WEBP")],
)
def test_wide_gamut_profile_is_converted_to_srgb(space, fmt):
    target = (200, 60, 40)
    icc = synthetic.icc_rgb_profile(f"{space} test", **getattr(synthetic, space))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    stored = ImageCms.profileToProfile(
        photo(400, 300, target), srgb, profile, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
    )
    # the stored numbers are visibly different from the sRGB colour: ignoring the profile would be caught
    assert max(abs(a - b) for a, b in zip(stored.getpixel((0, 0)), target, strict=True)) > 10
    kwargs = {"quality": 95} if fmt != "PNG" else {}
    result = ingest_photo(encode(stored, fmt, icc_profile=icc, **kwargs))
    assert result.icc_profile == f"{space} test"
    np.testing.assert_allclose(result.rgb[150, 200], target, atol=4)


def test_profile_on_rgba_png_is_converted_and_alpha_kept():
    icc = synthetic.icc_rgb_profile("Adobe RGB test", **synthetic.ADOBE_RGB)
    image, mask = synthetic.product_png_alpha()
    result = ingest_photo(encode(image, "PNG", icc_profile=icc))
    assert result.icc_profile == "Adobe RGB test"
    assert np.array_equal(result.alpha > 127, mask)


def test_srgb_profile_is_left_alone():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = ingest_photo(encode(photo(), "PNG", icc_profile=srgb))
    assert tuple(result.rgb[5, 5]) == (200, 60, 40)


def test_unreadable_profile_does_not_cost_the_photo():
    result = ingest_photo(encode(photo(), "PNG", icc_profile=b"not a profile at all" * 10))
    assert tuple(result.rgb[5, 5]) == (200, 60, 40)
    assert any(note.startswith("icc_unreadable") for note in result.notes)


def test_rotated_jpeg_with_profile_is_rotated_and_converted():
    icc = synthetic.icc_rgb_profile("P3 test", **synthetic.DISPLAY_P3)
    exif = Image.Exif()
    exif[0x0112] = 6
    result = ingest_photo(encode(Image.fromarray(_marked()), "JPEG", exif=exif, icc_profile=icc, quality=95))
    assert result.size == (300, 400)
    assert result.icc_profile == "P3 test"
    # red block was top-left when stored; orientation 6 shows it top-right
    r, g, b = result.rgb[20, -20].astype(int)
    assert r > 180 and g < 60 and b < 60
