"""Fixtures for the REST API tests: organizations with API keys, clients, products with real photos."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from generation.models import Job, Video
from shop_video.merchants.api_keys import create_api_key
from tests import synthetic
from tests.factories import (
    JobFactory,
    OrganizationFactory,
    PhotoFactory,
    ProductFactory,
    ensure_presets,
)


def grant(org, credits: int = 100_000) -> None:
    """Credits, so that submissions pass billing's reservation (billing.services.grant_credits)."""
    try:
        from billing.services import grant_credits
    except ImportError:  # pragma: no cover — billing without a ledger
        return
    grant_credits(organization=org, credits=credits, reason="API tests")


def client_for(secret: str | None) -> APIClient:
    client = APIClient()
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.SHOPVIDEO_API_THROTTLE_RATE = "100000/min"
    settings.SHOPVIDEO_IDEMPOTENCY_WAIT_SECONDS = 10.0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Jobs are created, never sent: these tests are about the API, not the workers."""
    from generation import services

    monkeypatch.setattr(services.dispatch, "_send", lambda *args, **kwargs: None)


@pytest.fixture
def org(db):
    ensure_presets()
    org = OrganizationFactory()
    grant(org)
    return org


@pytest.fixture
def other_org(db):
    org = OrganizationFactory()
    grant(org)
    return org


@pytest.fixture
def key(org):
    return create_api_key(organization=org, name="tests")


@pytest.fixture
def api(key) -> APIClient:
    return client_for(key[1])


@pytest.fixture
def other_api(other_org) -> APIClient:
    return client_for(create_api_key(organization=other_org, name="other")[1])


def photo_file(name: str = "bottle.png", seed: int = 1, size=(320, 400)) -> SimpleUploadedFile:
    image, _mask = synthetic.product_png_alpha(size[0], size[1], seed=seed)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def mask_file(size=(320, 400)) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle((size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4), fill=255)
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    return SimpleUploadedFile("mask.png", buf.getvalue(), content_type="image/png")


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org)
    PhotoFactory(product=product)
    PhotoFactory(product=product)
    return product


@pytest.fixture
def other_product(other_org):
    product = ProductFactory(organization=other_org)
    PhotoFactory(product=product)
    return product


def make_video(job: Job, *, review: str = Video.Review.READY, data: bytes = b"\x00\x00\x00\x18ftypmp42fake") -> Video:
    """A finished job's video row with small stand-in files (the API serves bytes, it does not decode them)."""
    video = Video(
        organization_id=job.organization_id,
        job=job,
        attempt=1,
        width=640,
        height=640,
        fps=16,
        frames=17,
        duration_seconds=1.0625,
        size_bytes=len(data),
        psnr_min=45.0,
        psnr_mean=47.5,
        ssim_min=0.99,
        edge_iou=0.97,
        flicker=0.3,
        qa_passed=review == Video.Review.READY,
        review=review,
    )
    video.file.save("video.mp4", ContentFile(data), save=False)
    video.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff\xe0poster"), save=False)
    video.save()
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.SUCCEEDED if review == Video.Review.READY else Job.State.FAILED, progress=1.0, stage="done"
    )
    job.refresh_from_db()
    return video


@pytest.fixture
def job(product):
    return JobFactory(photo=product.photos.first())


@pytest.fixture
def other_job(other_product):
    return JobFactory(photo=other_product.photos.first())


def error_of(response) -> dict:
    """The error object of an error response, after checking the one error format."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error["fields"], dict), body
    return error


class _ImageServer:
    """A tiny HTTP server on 127.0.0.1 serving synthetic product PNGs at any path."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        body = photo_file().read()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.hostport = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.hostport}/{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def image_server():
    server = _ImageServer()
    try:
        yield server
    finally:
        server.close()
