"""Ads as jobs through a real Celery worker: two 6 s 480p ads of one product (two photos) with music, submitted
through the API while no worker runs; one ad's music file is then deleted from storage. The worker renders the
stored storyboard of the first (an MP4 of 6 s with its AAC music, the shots the estimate showed, charged exactly
its price) and fails the second with `audio_not_found`, its credits released. An ad whose shots fall below the QA
bar is held for review and charged only when approved."""

from __future__ import annotations

import hashlib
import io

import av
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps
from rest_framework.test import APIClient

from billing import selectors as billing_selectors
from generation.models import Job, Photo, Video
from generation.pipeline import cutout, ingest
from generation.services import ads, worker
from generation.services import review as review_services
from shop_video.merchants.api_keys import create_api_key
from tests import audio_samples, incontext
from tests.factories import OrganizationFactory, ProductFactory, ensure_presets
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _sneaker_photos(product) -> list[Photo]:
    """A real product photo (800 px) and its mirror image, each stored with its mask as a merchant's would be."""
    image = Image.open(incontext.FIXTURES / "01-sneaker-white-bg.jpg").convert("RGB").resize((800, 800))
    mask = Image.fromarray(cutout.compute_cutout(ingest.ingest_photo(_png(image))).mask)
    photos = []
    for rgb, alpha in ((image, mask), (ImageOps.mirror(image), ImageOps.mirror(mask))):
        data = _png(rgb)
        photo = Photo(organization=product.organization, product=product, width=800, height=800,
                      checksum=hashlib.sha256(data).hexdigest(), mask_source=Photo.MaskSource.ALPHA)  # fmt: skip
        photo.file.save("sneaker.png", ContentFile(data), save=False)
        photo.mask.save("mask.png", ContentFile(_png(alpha)), save=False)
        photo.save()
        photos.append(photo)
    return photos


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _upload_music(api: APIClient, data: bytes) -> int:
    response = api.post(
        "/api/v1/audio", {"file": SimpleUploadedFile("loop.wav", data, content_type="audio/wav")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_an_ad_job_is_rendered_as_estimated_and_charged_its_price_and_a_lost_track_fails_it_uncharged(
    start_worker, tmp_path
):
    org = OrganizationFactory()
    product = ProductFactory(organization=org, title="Bottle", price="19.90", currency="USD")
    photos = _sneaker_photos(product)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=org, name='ads')[1]}")
    wav = audio_samples.write_wav(tmp_path / "loop.wav", audio_samples.music(3.0, 48_000, 100.0), 48_000)
    kept, lost = (_upload_music(api, wav.read_bytes()) for _ in range(2))
    body = {"format": "ad", "product": product.pk, "photos": [p.pk for p in photos], "market": "us",
            "platform": "tiktok", "seconds": 6, "resolution": "480p", "seed": 11}  # fmt: skip
    balance = billing_selectors.credits_for(org).balance

    estimate = api.post("/api/v1/jobs/estimate", {**body, "audio": kept}, format="json").json()
    good = api.post("/api/v1/jobs", {**body, "audio": kept}, format="json")
    bad = api.post("/api/v1/jobs", {**body, "audio": lost}, format="json")
    assert good.status_code == bad.status_code == 201, (good.content, bad.content)
    good_job, bad_job = good.json()["jobs"][0], bad.json()["jobs"][0]
    assert billing_selectors.credits_for(org).reserved == good_job["credits"] + bad_job["credits"]
    default_storage.delete(Job.objects.get(pk=bad_job["id"]).audio.file.name)  # gone before any worker runs

    start_worker()
    wait_for(lambda: all(j.is_final for j in Job.objects.filter(organization=org)), 240, 0.3, "the ads to finish")

    job = Job.objects.get(pk=good_job["id"])
    assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message)
    video = Video.objects.get(job=job)
    assert video.review == Video.Review.READY and video.qa_passed
    with video.file.open("rb") as fh, av.open(fh) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        assert (stream.codec_context.width, stream.codec_context.height) == (480, 832)
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert frames == 96 and video.duration_seconds == pytest.approx(6.0)
    assert float(stream.duration * stream.time_base) == pytest.approx(6.0, abs=1 / 16)
    assert video.poster and default_storage.exists(video.poster.name)
    # the estimate's shots, the job's and the rendered ones: the same, in the same order, at the same price
    keys = ("kind", "photo", "start", "end")
    shown = [tuple(s[k] for k in keys) for s in estimate["storyboard"]["shots"]]
    assert shown == [tuple(s[k] for k in keys) for s in good_job["storyboard"]["shots"]]
    assert shown == [tuple(s[k] for k in keys) for s in video.metadata["shots"]]
    assert estimate["credits"] == good_job["credits"] == job.credits == 6
    assert all(s["qa"]["psnr_min"] >= 38 for s in video.metadata["shots"])  # every product shot, the card's too
    assert video.metadata["audio"]["lufs"] == pytest.approx(-14.0, abs=0.2)

    failed = Job.objects.get(pk=bad_job["id"])
    assert (failed.state, failed.error_code) == (Job.State.FAILED, "audio_not_found")
    assert not Video.objects.filter(job=failed).exists()
    credits = billing_selectors.credits_for(org)
    assert (credits.balance, credits.reserved) == (balance - job.credits, 0)  # the ad's price, nothing for the other


def test_an_ad_with_a_shot_below_the_qa_bar_is_held_for_review_and_charged_only_on_approval(
    clean_broker, transactional_db, settings
):
    settings.SHOPVIDEO_QA_MIN_PSNR = 99.0  # no shot reaches it: the hold must come from the per-shot QA
    ensure_presets()
    org = OrganizationFactory()
    product = ProductFactory(organization=org, title="Bottle")
    balance = billing_selectors.credits_for(org).balance
    options = ads.AdOptions(market="us", platform="tiktok", seconds=6, seed=3)
    job = ads.submit_ad(organization=org, photos=_sneaker_photos(product)[:1], options=options)

    worker.execute_job(job_id=job.pk, worker_name="in-process")  # the worker's service, without Celery

    job.refresh_from_db()
    assert (job.state, job.error_code) == (Job.State.FAILED, "qa_failed")
    video = Video.objects.get(job=job)
    assert video.review == Video.Review.NEEDS_REVIEW and not video.qa_passed
    assert all(s["qa"]["psnr_min"] < 99 for s in video.metadata["shots"] if s["kind"] != "endcard")
    assert [s["kind"] for s in video.metadata["shots"]] == [s["kind"] for s in job.storyboard["shots"]]
    credits = billing_selectors.credits_for(org)
    assert (credits.balance, credits.reserved) == (balance, 0)
    assert review_services.approve_video(video=video) == job.credits == 6
    assert billing_selectors.credits_for(org).balance == balance - 6
