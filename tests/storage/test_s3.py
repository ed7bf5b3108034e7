"""Media on S3 (moto server): objects land in the bucket, private; presigned download URLs work with plain HTTP,
expire, and cannot be bent to another organization's object; the tenant-checked file views work on S3."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generation.downloads import signed_download_url
from generation.models import Video
from tests.factories import PASSWORD, JobFactory, MembershipFactory, OrganizationFactory, PhotoFactory

from .conftest import BUCKET

pytestmark = pytest.mark.django_db
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


def _video(org) -> Video:
    job = JobFactory(photo=PhotoFactory(product__organization=org), state="succeeded", attempt=1)
    video = Video(organization=org, job=job, attempt=1, width=640, height=640, fps=16, frames=17, duration_seconds=1.0)
    video.file.save("video.mp4", ContentFile(VIDEO_BYTES), save=False)
    video.poster.save("poster.jpg", ContentFile(b"\xff\xd8poster"), save=False)
    video.save()
    return video


def _get(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_photo_saved_through_the_storage_lands_in_the_bucket_privately(s3_storage, s3_client):
    assert type(default_storage._wrapped).__name__ == "S3Storage"
    photo = PhotoFactory()
    assert photo.file.name.startswith(f"orgs/{photo.organization_id}/photos/")
    stored = s3_client.get_object(Bucket=BUCKET, Key=photo.file.name)["Body"].read()
    with photo.file.open("rb") as fh:
        assert stored == fh.read() and stored[:8] == b"\x89PNG\r\n\x1a\n"
    grants = s3_client.get_object_acl(Bucket=BUCKET, Key=photo.file.name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # owner only: no public read
    # Without a signature the object cannot be read.
    status, _body, _headers = _get(
        f"{s3_storage.STORAGES['default']['OPTIONS']['endpoint_url']}/{BUCKET}/{photo.file.name}"
    )
    assert status == 403


def test_a_presigned_download_url_downloads_the_video_with_plain_http(s3_storage, s3_client):
    video = _video(OrganizationFactory())
    assert s3_client.head_object(Bucket=BUCKET, Key=video.file.name)["ContentLength"] == len(VIDEO_BYTES)
    url = signed_download_url(video, expires_in=120)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Expires"] == "120" and "X-Amz-Signature" in query
    status, body, headers = _get(url)
    assert status == 200 and body == VIDEO_BYTES
    assert (
        headers["Content-Disposition"].startswith("attachment;")
        and f"-{video.pk}.mp4" in headers["Content-Disposition"]
    )


def test_a_presigned_url_stops_working_when_it_expires(s3_storage):
    video = _video(OrganizationFactory())
    url = signed_download_url(video, expires_in=1)
    assert _get(url)[0] == 200
    time.sleep(2.2)
    status, body, _ = _get(url)
    assert status == 403 and b"expired" in body
    # Stretching the expiry in the URL breaks the signature.
    assert _get(_with_query(url, **{"X-Amz-Expires": "3600"}))[0] == 403


def test_a_url_for_one_organization_cannot_be_bent_to_anothers_object(s3_storage):
    mine, theirs = _video(OrganizationFactory()), _video(OrganizationFactory())
    url = signed_download_url(mine, expires_in=120)
    assert f"/orgs/{mine.organization_id}/" in url
    bent = url.replace(urlsplit(url).path, f"/{BUCKET}/{theirs.file.name}")
    status, body, _ = _get(bent)
    assert status == 403 and VIDEO_BYTES not in body
    assert _get(url.replace(f"/orgs/{mine.organization_id}/", f"/orgs/{theirs.organization_id}/"))[0] == 403
    assert _get(_with_query(url, **{"X-Amz-Signature": "0" * 64}))[0] == 403


def test_the_tenant_checked_file_views_stream_from_s3(s3_storage, client):
    member = MembershipFactory()
    video = _video(member.organization)
    client.login(username=member.user.username, password=PASSWORD)
    response = client.get(f"/files/videos/{video.pk}/", HTTP_RANGE="bytes=10-99")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == VIDEO_BYTES[10:100]
    assert response["Content-Range"] == f"bytes 10-99/{len(VIDEO_BYTES)}"
    full = client.get(f"/files/videos/{video.pk}/download/")
    assert full.status_code == 200 and b"".join(full.streaming_content) == VIDEO_BYTES
    other = MembershipFactory()
    client.login(username=other.user.username, password=PASSWORD)
    assert client.get(f"/files/videos/{video.pk}/").status_code == 404
