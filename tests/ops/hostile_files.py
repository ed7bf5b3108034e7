"""The hostile-file set shared by the dashboard and the API tests: 100 malformed or hostile uploads (script
payloads, SVG, polyglots, header lies, deflate bombs, other formats, noise, path-traversal names, empty files),
deterministic, plus hostile CSV files and zips for the catalogue import, and the check that whatever got stored
is an image of ours and nothing else."""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from tests import synthetic

# Bytes that must never be found in a stored file: markup, script, an archive, an executable.
FORBIDDEN_IN_STORED = (b"<script", b"<svg", b"<html", b"<body", b"PK\x03\x04", b"#!/bin/sh", b"alert(")
IMAGE_SUFFIXES = {".jpg", ".png", ".webp", ".heic"}
SAFE_SERVED_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "video/mp4"}


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def polyglots(jpeg: bytes, png: bytes) -> list[tuple[str, bytes, str]]:
    """Six files that decode as images and carry markup, script or an archive too."""
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("evil.html", "<html><script>alert(1)</script></html>")
    assert jpeg.startswith(b"\xff\xd8")
    com = b"<script>alert('com')</script>"
    jpeg_comment = jpeg[:2] + b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + com + jpeg[2:]
    text = b"Comment\x00<svg onload=alert(1)>"
    iend = png.rindex(b"IEND") - 4
    png_text = png[:iend] + _chunk(b"tEXt", text) + png[iend:]
    gif_js = _save(synthetic.product_on_white(320, 320)[0].convert("RGB"), "GIF") + b"*/;alert(1);//"
    return [
        ("zip-after-png.png", png + zipped.getvalue(), "image/png"),
        ("html-after-jpeg.jpg", jpeg + b"<html><body onload=alert(1)><script>alert(2)</script>", "image/jpeg"),
        ("comment.jpg", jpeg_comment, "image/jpeg"),
        ("text-chunk.png", png_text, "image/png"),
        ("shell-after-png.png", png + b"#!/bin/sh\nrm -rf /\n", "application/x-sh"),
        ("gif-js.gif", gif_js, "image/gif"),
    ]


def corpus() -> list[tuple[str, bytes, str]]:
    """(upload name, bytes, declared content type): 100 files, deterministic."""
    rng = random.Random(8)
    product, _mask = synthetic.product_on_white(320, 400)
    jpeg = _save(product, "JPEG", quality=85)
    png = _save(product, "PNG")
    names = ["../../x.jpg", "..\\..\\win.jpg", "/etc/passwd.png", "a\x00b.jpg", "photo.jpg.html", "x" * 300 + ".jpg"]
    files: list[tuple[str, bytes, str]] = []
    # Markup and script in every disguise.
    markup = [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><svg>&x;</svg>",
        b"<html><script>alert(document.cookie)</script></html>",
        b"<script>fetch('/api/v1/products')</script>",
        b"GIF89a/*<svg onload=alert(1)>*/=1;alert(2)//",
        b"\xff\xd8\xff\xe0<html><body onload=alert(1)>",
        b"\x89PNG\r\n\x1a\n<script>alert(1)</script>",
        b"%PDF-1.7\n<</JS(app.alert(1))>>",
        b"PK\x03\x04" + b"\0" * 100,  # a zip
        b"#!/bin/sh\nrm -rf /\n",
    ]
    for i, data in enumerate(markup):
        for ext, ctype in (("svg", "image/svg+xml"), ("jpg", "image/jpeg")):
            files.append((f"hostile{i}.{ext}", data, ctype))
    # Polyglots: real images that are also something else (Pillow decodes them; what is stored must be image only).
    files += polyglots(jpeg, png)
    # Truncated and bit-flipped images.
    for i in range(21):
        cut = rng.randrange(20, len(jpeg) - 20)
        files.append((f"cut{i}.jpg", jpeg[:cut], "image/jpeg"))
    for i in range(20):
        buf = bytearray(png if i % 2 else jpeg)
        for _ in range(rng.randrange(1, 40)):
            pos = rng.randrange(8, len(buf))
            buf[pos] ^= 1 << rng.randrange(8)
        files.append((f"flip{i}.{'png' if i % 2 else 'jpg'}", bytes(buf), "image/png" if i % 2 else "image/jpeg"))
    # Header lies: giant dimensions, zero dimensions, bogus chunks, deflate bombs.
    for i, (w, h) in enumerate([(100_000, 100_000), (0, 10), (1, 1), (70_000, 1_000), (300, 65_535)]):
        ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
        body = zlib.compress(b"\0" * 2_000_000, 9)
        files.append(
            (f"ihdr{i}.png", b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body), "image/png")
        )
    # Other formats we do not take, and images too small.
    for fmt, ext in (("GIF", "gif"), ("BMP", "bmp"), ("TIFF", "tif"), ("ICO", "ico"), ("PPM", "ppm")):
        files.append((f"format.{ext}", _save(product.convert("RGB"), fmt), "image/" + ext))
    for size in (10, 100, 255):
        files.append((f"small{size}.png", _save(product.resize((size, size)), "PNG"), "image/png"))
    # Random noise with image magic numbers.
    for i, magic in enumerate([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP", b"\0\0\0\x18ftypheic"] * 3):
        files.append((f"noise{i}.img", magic + rng.randbytes(rng.randrange(10, 5000)), "application/octet-stream"))
    # Valid images under hostile names: stored safely.
    for i, name in enumerate(names):
        files.append((name, png if i % 2 else jpeg, "text/html"))
    # Empty.
    files += [("empty.jpg", b"", "image/jpeg"), ("space.png", b" ", "image/png")]
    return files[:100]


def assert_only_our_images_stored(root: Path, organization_id: int, *, besides: Iterable[Path] = ()) -> list[Path]:
    """Every stored file (but `besides`) lies under the organization's prefix, has an image suffix, starts with an
    image's magic bytes, decodes, and contains no markup, script or archive (a polyglot was cut down to the image).
    Returns the image files checked."""
    root = root.resolve()
    skip = {Path(p).resolve() for p in besides}
    stored = [p for p in root.rglob("*") if p.is_file() and p.resolve() not in skip]
    for path in stored:
        assert path.resolve().is_relative_to(root / f"orgs/{organization_id}"), path
        assert path.suffix in IMAGE_SUFFIXES, path
        data = path.read_bytes()
        assert data.startswith((b"\xff\xd8\xff", b"\x89PNG", b"RIFF")), path  # real image bytes only
        for needle in FORBIDDEN_IN_STORED:
            assert needle.lower() not in data.lower(), (path, needle)
        with Image.open(io.BytesIO(data)) as img:
            img.load()
        if data.startswith(b"\xff\xd8"):
            assert data.endswith(b"\xff\xd9"), path  # nothing after the JPEG's end
        if data.startswith(b"\x89PNG"):
            assert data.endswith(b"IEND\xaeB`\x82"), path  # nothing after the PNG's end
    return stored


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()
