"""/api/v1/batches (per-state counts, cancel) and /api/v1/videos (metadata, QA, signed download URLs)."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from rest_framework.test import APIClient

from generation import downloads
from generation.models import Job, Video
from tests.factories import BatchFactory, JobFactory, market

from .conftest import error_of, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(org, product):
    batch = BatchFactory(organization=org, name="Spring")
    photo = product.photos.first()
    JobFactory(photo=photo, batch=batch)
    JobFactory(photo=photo, batch=batch, state=Job.State.RUNNING, progress=0.5)
    JobFactory(photo=photo, batch=batch, state=Job.State.FAILED)
    make_video(JobFactory(photo=photo, batch=batch))
    return batch


def test_list_batches(api, batch, other_job):
    body = api.get("/api/v1/batches").json()
    assert [b["id"] for b in body["results"]] == [batch.pk]


def test_retrieve_batch_counts_per_state(api, batch):
    body = api.get(f"/api/v1/batches/{batch.pk}").json()
    assert body["name"] == "Spring" and body["job_count"] == 4 and body["finished"] is False
    assert body["counts"] == {"queued": 1, "running": 1, "succeeded": 1, "failed": 1, "canceled": 0}
    assert body["progress"] == pytest.approx((0 + 0.5 + 1 + 1) / 4)


def test_cancel_batch(api, batch):
    body = api.post(f"/api/v1/batches/{batch.pk}/cancel").json()
    assert body["counts"] == {"queued": 0, "running": 0, "succeeded": 1, "failed": 1, "canceled": 2}
    assert body["finished"] is True


@pytest.mark.parametrize("path", ["/api/v1/batches/{id}", "/api/v1/batches/{id}/cancel"])
def test_another_orgs_batch_is_404(api, other_job, path):
    url = path.format(id=other_job.batch_id)
    response = api.post(url) if url.endswith("cancel") else api.get(url)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    other_job.refresh_from_db()
    assert other_job.state == Job.State.QUEUED


def test_list_videos_with_filters(api, job, org, other_job):
    video = make_video(job)
    other = make_video(JobFactory(photo=job.photo, market=market("de")))
    make_video(other_job)
    ids = lambda **p: [v["id"] for v in api.get("/api/v1/videos", p).json()["results"]]  # noqa: E731
    assert ids() == [other.pk, video.pk]
    assert ids(market="de") == [other.pk]
    assert ids(job=job.pk) == [video.pk]
    assert ids(batch=job.batch_id) == [video.pk]
    assert ids(product=job.photo.product_id) == [other.pk, video.pk]


def test_list_videos_filter_validation(api):
    response = api.get("/api/v1/videos", {"job": "x", "market": "zz"})
    assert response.status_code == 400 and {"job", "market"} <= set(error_of(response)["fields"])


def test_retrieve_video_metadata_qa_and_download(api, job):
    video = make_video(job)
    body = api.get(f"/api/v1/videos/{video.pk}").json()
    assert body["job"] == job.pk and body["batch"] == job.batch_id and body["market"] == "us"
    assert (body["width"], body["height"], body["fps"], body["frames"]) == (640, 640, 16, 17)
    assert body["qa"] == {
        "passed": True,
        "psnr_min": 45.0,
        "psnr_mean": 47.5,
        "ssim_min": 0.99,
        "edge_iou": 0.97,
        "flicker": 0.3,
    }
    assert body["delivered"] is True and body["download_expires_in"] == downloads.default_expires_in()
    response = APIClient().get(body["download_url"])  # no key: the signature is the credential
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == video.file.open("rb").read()
    assert APIClient().get(body["poster_url"]).status_code == 200


def test_a_video_kept_for_review_has_no_download_url(api, job):
    video = make_video(job, review=Video.Review.NEEDS_REVIEW)
    body = api.get(f"/api/v1/videos/{video.pk}").json()
    assert body["delivered"] is False and body["download_url"] is None and body["qa"]["passed"] is False


def test_another_orgs_video_is_404(api, other_job):
    video = make_video(other_job)
    response = api.get(f"/api/v1/videos/{video.pk}")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_signed_urls_expire(api, job, monkeypatch):
    video = make_video(job)
    url = downloads.signed_download_url(video, expires_in=5)
    assert APIClient().get(url).status_code == 200
    real_time = time.time
    monkeypatch.setattr(downloads.time, "time", lambda: real_time() + 6)
    assert APIClient().get(url).status_code == 410


def test_a_tampered_signed_url_is_404(api, job):
    video = make_video(job)
    token = downloads.signed_download_url(video, expires_in=60).rsplit("/", 1)[-1]
    payload = signing.loads(token, salt=downloads.SALT)
    forged = signing.dumps({**payload, "id": payload["id"] + 1}, salt="not-our-salt")
    assert APIClient().get(f"/files/signed/{forged}").status_code == 404
    assert APIClient().get(f"/files/signed/{token[:-2]}xx").status_code == 404


def test_a_signed_url_cannot_be_bent_to_another_orgs_object(api, job, other_job):
    mine = make_video(job)
    theirs = make_video(other_job)
    token = downloads.signed_download_url(mine, expires_in=60).rsplit("/", 1)[-1]
    payload = signing.loads(token, salt=downloads.SALT)
    # Even a correctly signed token (we sign it here with the server's key) for another org's id is refused.
    bent = signing.dumps({**payload, "id": theirs.pk}, salt=downloads.SALT, compress=True)
    assert APIClient().get(f"/files/signed/{bent}").status_code == 404


def test_a_signed_url_stops_working_when_the_file_is_replaced(api, product):
    photo = product.photos.first()
    url = downloads.signed_file_url(photo, "mask", expires_in=60)
    assert APIClient().get(url).status_code == 200
    photo.mask.name = photo.mask.name + ".old"
    photo.save(update_fields=["mask"])
    assert APIClient().get(url).status_code == 404
