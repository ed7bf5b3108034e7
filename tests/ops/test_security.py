"""Security in force: the CSP header on every page, production settings (`check --deploy` clean, refusals of
demo/test settings), hostile uploads through the dashboard refused with clear errors and nothing stored, media
served with nosniff and a non-executable type."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from generation.models import Photo, Product
from tests import synthetic
from tests.factories import PhotoFactory

ROOT = Path(__file__).resolve().parents[2]


# --- CSP on every page ---------------------------------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "dashboard:home",
        "dashboard:product_list",
        "dashboard:product_create",
        "dashboard:batch_list",
        "dashboard:video_list",
    ],
)
def test_every_dashboard_page_has_the_csp(client, member, name):
    client.force_login(member.user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = _policy(response)
    # No inline script (unless a page marks one with the per-response nonce), no eval.
    assert [s for s in policy["script-src"] if not s.startswith("'nonce-")] == ["'self'", "https://js.stripe.com"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "https://js.stripe.com" in policy["frame-src"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_login_page_and_probes_have_the_csp(client):
    for url in ("/accounts/login/", "/healthz"):
        assert "default-src 'self'" in client.get(url)["Content-Security-Policy"], url


# --- production settings ---------------------------------------------------------------------------------------------

_TEST_ONLY_ENV = ("DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE", "DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATABASE_NAME")
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "shop_video.settings_production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "shop.example,www.shop.example",
    "DATABASE_URL": "postgres://shopvideo@db.internal:5432/shopvideo",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "SHOPVIDEO_SITE_URL": "https://shop.example",
    # A process that signs no content credentials; the C2PA certificate refusals: tests/markets/test_c2pa.py.
    "SHOPVIDEO_C2PA_ENABLED": "false",
}


def _manage(args: list[str], tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    # The test process' own switches (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE) are not the deployment's.
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV}
    env.update(PROD_ENV, SHOPVIDEO_VAR_DIR=str(tmp_path), **overrides)
    env = {k: v for k, v in env.items() if v is not None and v != "<unset>"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    out = _manage(["check", "--deploy", "--fail-level", "WARNING", "--tag", "security"], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
    # The full check (every tag): no security or CSP finding at all.
    full = _manage(["check", "--deploy"], tmp_path)
    assert full.returncode == 0, full.stderr
    assert "(security." not in full.stdout + full.stderr and "(csp." not in full.stdout + full.stderr


def test_production_settings_values(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS, s.SECURE_REDIRECT_EXEMPT, "
        "s.LOGGING['handlers']['console']['formatter'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV}
    env.update(PROD_ENV, SHOPVIDEO_VAR_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(" ", 5)[:5] == ["False", "True", "True", "True", "31536000"]
    assert "['shop.example', 'www.shop.example']" in out.stdout
    assert "'^healthz$', '^readyz$'" in out.stdout
    assert out.stdout.strip().endswith("json")


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        (
            {"DJANGO_SECRET_KEY": "insecure-dev-key-only-for-the-embedded-demo-and-tests-0123456789"},
            "DJANGO_SECRET_KEY",
        ),
        ({"DJANGO_SECRET_KEY": "<unset>"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "<unset>"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "PostgreSQL"),
        ({"REDIS_URL": "<unset>"}, "REDIS_URL"),
        ({"SHOPVIDEO_SITE_URL": "<unset>"}, "SHOPVIDEO_SITE_URL must be set"),
        ({"SHOPVIDEO_SITE_URL": "http://shop.example"}, "SHOPVIDEO_SITE_URL must be the site's https://"),
        ({"SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST": "127.0.0.1"}, "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:8420"}, "STRIPE_API_BASE is for tests only"),
    ],
)
def test_production_refuses_to_start_with_demo_or_test_settings(tmp_path, override, complaint):
    out = _manage(["check"], tmp_path, **override)
    assert out.returncode != 0
    assert "ImproperlyConfigured" in out.stderr and complaint in out.stderr


# --- hostile uploads through the dashboard --------------------------------------------------------------------------


def _png(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kwargs)
    return buf.getvalue()


def _jpeg_with_exif_script() -> bytes:
    image, _mask = synthetic.product_on_white(480, 600)
    exif = Image.Exif()
    exif[0x010E] = "<script>alert(document.cookie)</script>"  # ImageDescription
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _png_with_script_chunk() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_itxt("XML:com.adobe.xmp", "<svg onload=alert(1)>")
    image, _mask = synthetic.product_png_alpha(320, 400)
    return _png(image, pnginfo=info)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML_POLYGLOT = b"\xff\xd8\xff\xe0<html><body><script>alert(document.domain)</script></body></html>"
GIF_HTML = b"GIF89a/*<html><script>alert(1)</script>*/"


def _deflate_bomb_png() -> bytes:
    raw = b"".join(b"\x00" + b"\x00" * 3 * 30000 for _ in range(30000))[:1]  # header only; see the IHDR below
    del raw
    ihdr = (30000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    body = zlib.compress(b"\x00" * (3 * 30000 + 1) * 64, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("logo.svg", SVG, "image/svg+xml"),
        ("photo.jpg", SVG, "image/jpeg"),
        ("photo.jpg", HTML_POLYGLOT, "image/jpeg"),
        ("index.html", b"<html><script>alert(1)</script></html>", "text/html"),
        ("anim.gif", GIF_HTML, "image/gif"),
        ("payload.js", b"alert(1)", "application/javascript"),
        ("../../x.jpg", HTML_POLYGLOT, "image/jpeg"),
        ("bomb.png", _deflate_bomb_png(), "image/png"),
        ("empty.jpg", b"", "image/jpeg"),
    ],
)
def test_hostile_uploads_are_refused_with_a_clear_error_and_nothing_is_stored(
    client, member, settings, tmp_path, name, data, content_type
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(member.user)
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    response = client.post(
        reverse("dashboard:product_create"), {"title": "Hostile", "category": "other", "photos": [upload]}
    )
    assert response.status_code == 400
    assert not Product.objects.filter(organization=member.organization).exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    html = response.content.decode()
    assert "<script>alert" not in html  # never reflected unescaped
    assert "could not be used" in html or "not" in html.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("maker", [_jpeg_with_exif_script, _png_with_script_chunk])
def test_images_with_script_payloads_are_stored_under_a_safe_name_and_served_inert(
    client, member, settings, tmp_path, maker
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(member.user)
    upload = SimpleUploadedFile("../../../etc/evil<script>.jpg", maker(), content_type="text/html")
    response = client.post(
        reverse("dashboard:product_create"), {"title": "Payload", "category": "other", "photos": [upload]}
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    photo = Photo.objects.get(organization=member.organization)
    root = Path(settings.MEDIA_ROOT).resolve()
    stored = (root / photo.file.name).resolve()
    assert stored.is_relative_to(root / f"orgs/{member.organization_id}")  # no traversal
    assert ".." not in photo.original_name and "/" not in photo.original_name and "<" not in photo.original_name
    assert stored.suffix in (".jpg", ".png")  # named after the detected format, not the upload's name

    served = client.get(reverse("files:photo", args=[photo.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] in ("image/jpeg", "image/png")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_stored_file_of_an_unexpected_type_is_served_as_an_inert_download(client, member, settings, tmp_path):
    """Defence in depth: even if an HTML file ended up in storage, it is never served as HTML."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(member.user)
    photo = PhotoFactory(product__organization=member.organization)
    photo.file.save("page.html", io.BytesIO(b"<script>alert(1)</script>"), save=True)
    served = client.get(reverse("files:photo", args=[photo.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"
