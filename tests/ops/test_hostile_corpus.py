"""A hundred malformed or hostile files through the dashboard's upload, one product each: every answer is a clear
400 naming the file or a stored photo; never a 500; nothing executable stored; whatever is stored is served as an
image with nosniff, under the organization's prefix and a name of our own."""

from __future__ import annotations

import io
import random
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from generation.models import Photo
from tests import synthetic
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


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
    # Truncated and bit-flipped images.
    for i in range(27):
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


def test_a_hundred_hostile_files_get_clear_answers_and_nothing_executable_is_stored(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    files = corpus()
    assert len(files) == 100
    member = MembershipFactory()
    client.force_login(member.user)
    statuses: dict[int, int] = {}
    for index, (name, data, ctype) in enumerate(files):
        upload = SimpleUploadedFile(name, data, content_type=ctype)
        response = client.post(
            reverse("dashboard:product_create"), {"title": f"Hostile {index}", "category": "other", "photos": [upload]}
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (302, 400), (index, name, response.status_code)
        if response.status_code == 400:
            html = response.content.decode()
            # The photo check names the file and why; Django's form refuses an empty file before it.
            assert "could not be used" in html or "The submitted file is empty" in html, (index, name)
    assert statuses.get(400, 0) >= 80  # nearly all are refused; hostile names on real images are stored

    root = Path(settings.MEDIA_ROOT).resolve()
    stored = [p for p in root.rglob("*") if p.is_file()]
    allowed = {".jpg", ".png", ".webp", ".heic"}
    for path in stored:
        assert path.resolve().is_relative_to(root / f"orgs/{member.organization_id}"), path
        assert path.suffix in allowed, path
        head = path.read_bytes()[:16]
        assert head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"RIFF")), path  # real image bytes only
    for photo in Photo.objects.filter(organization=member.organization):
        assert "/" not in photo.original_name and "\\" not in photo.original_name and "\x00" not in photo.original_name
        served = client.get(reverse("files:photo", args=[photo.pk]))
        assert served.status_code == 200
        assert served["Content-Type"] in ("image/jpeg", "image/png", "image/webp")
        assert served["X-Content-Type-Options"] == "nosniff"
