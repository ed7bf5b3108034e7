"""Tenant-checked file serving: full responses, HTTP Range (206/416), downloads, any storage backend."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from generation.models import Job, Video
from tests.factories import JobFactory, MembershipFactory, PhotoFactory

pytestmark = pytest.mark.django_db


def mp4_bytes(frames: int = 12, size: int = 64) -> bytes:
    """A real, small H.264 MP4 (what the encode stage writes), made here rather than stored in git."""
    buf = io.BytesIO()
    container = av.open(buf, "w", format="mp4")
    stream = container.add_stream("libx264", rate=16)
    stream.width = stream.height = size
    stream.pix_fmt = "yuv420p"
    rng = np.random.default_rng(7)
    for _ in range(frames):
        frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return buf.getvalue()


def jpeg_bytes(color=(200, 40, 50), size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def make_video(job: Job, *, data: bytes | None = None, preview: bool = True, **fields) -> Video:
    """A delivered Video for a job, with its files written through the default storage (as the worker does)."""
    data = data if data is not None else mp4_bytes()
    video = Video(
        organization=job.organization,
        job=job,
        attempt=max(job.attempt, 1),
        width=64,
        height=64,
        fps=16,
        frames=12,
        duration_seconds=0.75,
        size_bytes=len(data),
        psnr_min=fields.pop("psnr_min", 47.25),
        psnr_mean=fields.pop("psnr_mean", 52.5),
        ssim_min=fields.pop("ssim_min", 0.9931),
        edge_iou=fields.pop("edge_iou", 0.987),
        flicker=fields.pop("flicker", 0.42),
        qa_passed=True,
        **fields,
    )
    video.file.save("video.mp4", ContentFile(data), save=False)
    video.poster.save("poster.jpg", ContentFile(jpeg_bytes()), save=False)
    if preview:
        video.preview.save("preview.mp4", ContentFile(mp4_bytes(frames=4, size=32)), save=False)
    video.save()
    if job.state != Job.State.SUCCEEDED:
        Job.objects.filter(pk=job.pk).update(state=Job.State.SUCCEEDED, progress=1.0, stage="")
    return video


@pytest.fixture
def video(member):
    job = JobFactory(photo=PhotoFactory(product__organization=member.organization))
    return make_video(job)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def stored(field) -> bytes:
    with field.storage.open(field.name, "rb") as fh:
        return fh.read()


def test_photo_and_mask_are_served_to_their_organization(client_a, member):
    photo = PhotoFactory(product__organization=member.organization)
    response = client_a.get(reverse("files:photo", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    data = body(response)
    assert data == stored(photo.file)
    assert Image.open(io.BytesIO(data)).size == (photo.width, photo.height)
    assert "attachment" not in response.get("Content-Disposition", "")

    mask = client_a.get(reverse("files:photo_mask", args=[photo.pk]))
    assert mask.status_code == 200
    assert body(mask) == stored(photo.mask)
    assert "private" in mask["Cache-Control"]


def test_photo_without_mask_is_404(client_a, member):
    photo = PhotoFactory(product__organization=member.organization)
    photo.mask.delete(save=True)
    assert client_a.get(reverse("files:photo_mask", args=[photo.pk])).status_code == 404


def test_missing_file_in_storage_is_404_not_500(client_a, video):
    default_storage.delete(video.poster.name)
    assert client_a.get(reverse("files:video_poster", args=[video.pk])).status_code == 404


def test_full_video_advertises_ranges(client_a, video):
    response = client_a.get(reverse("files:video", args=[video.pk]))
    data = stored(video.file)
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(data)
    assert body(response) == data


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, None),
        ("bytes=-64", -64, None),
        ("bytes=10-10", 10, 10),
        ("bytes=200-999999", 200, None),  # a last byte past the end is clamped to the end
    ],
)
def test_range_requests_return_the_exact_slice(client_a, video, header, first, last):
    data = stored(video.file)
    size = len(data)
    start = first if first >= 0 else size + first
    end = (size - 1) if last is None else last
    response = client_a.get(reverse("files:video", args=[video.pk]), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert int(response["Content-Length"]) == end - start + 1
    assert body(response) == data[start : end + 1]


def test_suffix_range_longer_than_the_file_returns_it_all(client_a, video):
    data = stored(video.file)
    response = client_a.get(reverse("files:video", args=[video.pk]), HTTP_RANGE=f"bytes=-{len(data) * 2}")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert body(response) == data


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{bigger}", "bytes=-0"])
def test_unsatisfiable_range_is_416(client_a, video, header):
    size = video.file.size
    response = client_a.get(
        reverse("files:video", args=[video.pk]), HTTP_RANGE=header.format(size=size, bigger=size + 10)
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["items=0-10", "bytes=0-10,20-30", "bytes=9-3", "bytes=abc"])
def test_ranges_we_do_not_serve_fall_back_to_the_whole_file(client_a, video, header):
    response = client_a.get(reverse("files:video", args=[video.pk]), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == stored(video.file)


def test_download_is_an_attachment_named_after_the_product(client_a, video):
    response = client_a.get(reverse("files:video_download", args=[video.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    title = video.job.photo.product.title.replace(" ", "-")
    assert f'filename="{title}-us-1x1-1s-{video.pk}.mp4"' in disposition
    assert body(response) == stored(video.file)
    ranged = client_a.get(reverse("files:video_download", args=[video.pk]), HTTP_RANGE="bytes=5-20")
    assert ranged.status_code == 206
    assert body(ranged) == stored(video.file)[5:21]


def test_poster_and_preview(client_a, video):
    poster = client_a.get(reverse("files:video_poster", args=[video.pk]))
    assert poster.status_code == 200
    assert poster["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body(poster))).format == "JPEG"
    preview = client_a.get(reverse("files:video_preview", args=[video.pk]))
    assert preview.status_code == 200
    assert body(preview) == stored(video.preview)


def test_video_without_preview_is_404(client_a, member):
    job = JobFactory(photo=PhotoFactory(product__organization=member.organization))
    video = make_video(job, preview=False)
    assert client_a.get(reverse("files:video_preview", args=[video.pk])).status_code == 404


def test_files_are_only_for_safe_methods(client_a, video):
    assert client_a.post(reverse("files:video", args=[video.pk])).status_code == 405
    head = client_a.head(reverse("files:video", args=[video.pk]))
    assert head.status_code == 200
    assert int(head["Content-Length"]) == video.file.size


IN_MEMORY_LOCATION = Path(settings.VAR_DIR) / "in-memory-storage-never-written"


@override_settings(
    STORAGES={
        "default": {
            "BACKEND": "django.core.files.storage.InMemoryStorage",
            "OPTIONS": {"location": str(IN_MEMORY_LOCATION)},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
)
def test_works_with_a_storage_that_has_no_local_paths(client_a, member):
    """InMemoryStorage keeps nothing on disk: serving must go through the storage API only (S3 comes later)."""
    job = JobFactory(photo=PhotoFactory(product__organization=member.organization))
    video = make_video(job)
    assert type(video.file.storage._wrapped).__name__ == "InMemoryStorage"
    assert not IN_MEMORY_LOCATION.exists()
    data = stored(video.file)
    full = client_a.get(reverse("files:video", args=[video.pk]))
    assert body(full) == data
    ranged = client_a.get(reverse("files:video", args=[video.pk]), HTTP_RANGE="bytes=-100")
    assert ranged.status_code == 206
    assert body(ranged) == data[-100:]
    photo = client_a.get(reverse("files:photo", args=[job.photo.pk]))
    assert body(photo) == stored(job.photo.file)
    assert not IN_MEMORY_LOCATION.exists()


def test_other_organization_gets_404_for_every_file(client, video):
    outsider = MembershipFactory()
    client.force_login(outsider.user)
    photo = video.job.photo
    for name, pk in [
        ("files:photo", photo.pk),
        ("files:photo_mask", photo.pk),
        ("files:video", video.pk),
        ("files:video_download", video.pk),
        ("files:video_poster", video.pk),
        ("files:video_preview", video.pk),
    ]:
        response = client.get(reverse(name, args=[pk]), HTTP_RANGE="bytes=0-10")
        assert response.status_code == 404, name


def test_anonymous_is_sent_to_login(client, video):
    response = client.get(reverse("files:video", args=[video.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
