"""generation.pipeline.sanitize: what is stored of an accepted photo is the image's own bytes, losslessly (the
decoded pixels are identical), with whatever a polyglot carried after the image or in text containers gone."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import generation.pipeline.ingest  # noqa: F401 — registers the HEIF opener
from generation.pipeline.sanitize import image_bytes_only
from tests import synthetic

TAIL = b"<html><script>alert(1)</script></html>PK\x03\x04zip"


def _encode(fmt: str, **kwargs) -> bytes:
    image, _mask = synthetic.product_on_white(300, 280)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, fmt, **kwargs)
    return buf.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


@pytest.mark.parametrize(
    ("fmt", "pillow_format", "kwargs"),
    [
        ("JPEG", "JPEG", {"quality": 90}),
        ("JPEG", "JPEG", {"progressive": True}),  # several scans, tables between them
        ("JPEG", "JPEG", {"restart_marker_blocks": 4}),  # RSTn markers inside the entropy-coded data
        ("JPEG", "JPEG", {"exif": Image.Exif().tobytes(), "icc_profile": b"\0" * 64}),
        ("PNG", "PNG", {}),
        ("WEBP", "WEBP", {"lossless": True}),
        ("HEIF", "HEIF", {"quality": -1}),  # lossless HEIC through pillow-heif
    ],
)
def test_a_tail_is_cut_and_the_pixels_stay(fmt, pillow_format, kwargs):
    clean = _encode(pillow_format, **kwargs)
    assert image_bytes_only(clean, fmt) == clean  # an honest file is stored as uploaded
    stored = image_bytes_only(clean + TAIL, fmt)
    assert stored == clean
    assert np.array_equal(_pixels(stored), _pixels(clean))


def test_jpeg_comments_and_png_text_chunks_are_dropped():
    jpeg = _encode("JPEG")
    comment = b"<svg onload=alert(1)>"
    with_comment = jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]
    assert image_bytes_only(with_comment, "JPEG") == jpeg

    image, _mask = synthetic.product_on_white(200, 260)
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_itxt("XML", "<html/>", zip=True)
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info)
    stored = image_bytes_only(buf.getvalue(), "PNG")
    assert b"<script>" not in stored and b"tEXt" not in stored and b"iTXt" not in stored
    assert np.array_equal(_pixels(stored), _pixels(buf.getvalue()))


def test_a_structure_it_cannot_walk_is_left_as_pillow_read_it():
    broken = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x01" * 5  # cut inside a segment
    assert image_bytes_only(broken, "JPEG") == broken
    assert image_bytes_only(b"GIF89a...", "GIF") == b"GIF89a..."
