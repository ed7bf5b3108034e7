"""Captions and platforms on real jobs: chosen through the API, carried by the Job, drawn into the video by
execute_job (run here directly, no worker), and checked against the platform's export rules."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

from billing.selectors import credits_for
from generation import services
from generation.market_services import set_localized_title
from generation.models import Job, Video
from generation.pipeline import platforms
from tests.factories import PhotoFactory, ProductFactory

from .conftest import error_of

TITLES = {"de": "Trinkflasche aus Glas", "ja": "ガラスのボトル 500ml"}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"
    return settings.MEDIA_ROOT


@pytest.fixture
def priced_product(org, media_root):
    product = ProductFactory(organization=org, title="Glass bottle", price=Decimal("49.90"), currency="EUR")
    PhotoFactory(product=product)
    for language, title in TITLES.items():
        set_localized_title(product=product, language=language, title=title)
    return product


def _submit(api, product, market: str, **extra) -> Job:
    body = {"product": product.pk, "markets": [market], "seconds": 1, "seed": 7, "platform": "tiktok", **extra}
    response = api.post("/api/v1/jobs", body, format="json")
    assert response.status_code == 201, response.json()
    (job,) = response.json()["jobs"]
    return Job.objects.get(pk=job["id"])


def _poster(job: Job) -> np.ndarray:
    with job.video.poster.open("rb") as fh:
        return np.asarray(Image.open(fh).convert("RGB")).astype(np.int16)


@pytest.mark.parametrize("market", ["de", "jp"])
def test_a_job_with_captions_draws_them_inside_the_platform_safe_area(api, priced_product, market):
    captioned = _submit(api, priced_product, market, captions={"enabled": True, "price": True, "cta": True})
    plain = _submit(api, priced_product, market)
    assert (captioned.captions, captioned.caption_price, captioned.caption_cta, captioned.platform) == (
        True,
        True,
        True,
        "tiktok",
    )
    assert captioned.aspect_ratio == "9:16"  # the platform's aspect ratio, none was asked for

    for job in (captioned, plain):
        services.execute_job(job_id=job.pk, worker_name="test")
        job.refresh_from_db()
        assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message)

    # What the caption says: the merchant's title for the market's language, the price formatted by Babel.
    meta = captioned.video.metadata
    language = "de" if market == "de" else "ja"
    assert meta["captions"]["title"] == TITLES[language]
    assert meta["captions"]["price"] == ("49,90\xa0€" if market == "de" else "€49.90")
    assert meta["captions"]["cta"]
    assert meta["export_check"] == {"platform": "tiktok", "enforced": True, "passed": True, "violations": []}
    assert plain.video.metadata["captions"] is None

    # Where it is drawn: compare the posters. The caption is a dark translucent plate (alpha 168/255) with bright
    # text; over the same background it darkens a pixel to about 0.34·background + 10.
    with_caption, without = _poster(captioned), _poster(plain)
    height, width = with_caption.shape[:2]
    # Only where the plain poster shows light background (its product sits lower and larger, without a caption).
    light = without.min(axis=2) > 90
    plate_like = (np.abs(with_caption - (0.341 * without + 10.5)) <= 14).all(axis=2) & light
    text_like = (with_caption.min(axis=2) >= 170) & light & ~plate_like
    x0, y0, x1, y1 = meta["captions"]["rect"]
    sx0, sy0, sx1, sy1 = platforms.PLATFORMS["tiktok"].ui_zones.safe_rect(width, height)
    assert sx0 <= x0 and sy0 <= y0 and x1 <= sx1 and y1 <= sy1
    inside = np.zeros((height, width), bool)
    inside[y0:y1, x0:x1] = True
    # The plate covers most of its rectangle, and text pixels (white title, yellow price) sit on it …
    assert plate_like[inside & light].mean() > 0.6
    text_in_plate = text_like & inside
    assert text_in_plate.sum() > 150
    ys, xs = np.nonzero(text_in_plate)
    assert sx0 <= xs.min() and xs.max() < sx1 and sy0 <= ys.min() and ys.max() < sy1
    # … and nothing like it anywhere in the platform's interface zones (outside the safe area).
    safe = np.zeros((height, width), bool)
    safe[sy0:sy1, sx0:sx1] = True
    assert plate_like[~safe].mean() < 0.01, "plate pixels in TikTok's interface zones"
    # The plain job's poster has no plate where the caption is.
    assert (np.abs(without - with_caption).max(axis=2) > 60)[inside & light].mean() > 0.6


def test_a_video_that_breaks_its_platform_rule_fails_with_the_rule_named_and_is_not_charged(
    api, org, priced_product, monkeypatch
):
    before = credits_for(org)
    # A deliberately strict TikTok: at most 10 kB per file (our 1 s video is larger).
    strict = dataclasses.replace(platforms.PLATFORMS["tiktok"], file_size_max=10_000)
    monkeypatch.setitem(platforms.PLATFORMS, "tiktok", strict)
    job = _submit(api, priced_product, "de", captions={"enabled": True})

    services.execute_job(job_id=job.pk, worker_name="test")

    job.refresh_from_db()
    assert (job.state, job.error_code) == (Job.State.FAILED, "export_check_failed")
    assert "file_size_max" in job.error_message
    video = Video.objects.get(job=job)
    assert video.review == Video.Review.NEEDS_REVIEW and video.qa_passed  # QA passed; the platform rule did not
    check = video.metadata["export_check"]
    assert (check["platform"], check["enforced"], check["passed"]) == ("tiktok", True, False)
    assert [v["rule"] for v in check["violations"]] == ["file_size_max"]
    assert check["violations"][0]["actual"] == video.size_bytes > 10_000
    assert credits_for(org) == before  # reserved, then released: nothing captured

    body = api.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["error"]["code"] == "export_check_failed"
    assert body["platform"] == "tiktok" and body["captions"] == {"enabled": True, "price": False, "cta": False}
    assert body["video"]["export_check"]["violations"][0]["rule"] == "file_size_max"
    assert body["video"]["delivered"] is False and body["video"]["download_url"] is None


def test_without_a_platform_the_export_check_is_reported_not_enforced(api, priced_product):
    response = api.post(
        "/api/v1/jobs", {"product": priced_product.pk, "markets": ["de"], "seconds": 1, "aspect_ratios": ["1:1"]}
    )
    assert response.status_code == 201, response.json()
    job = Job.objects.get(pk=response.json()["jobs"][0]["id"])
    assert (job.platform, job.captions) == ("", False)

    services.execute_job(job_id=job.pk, worker_name="test")

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    check = job.video.metadata["export_check"]
    # Germany's first platform that takes 1:1 (its presets: tiktok, reels, amazon, …).
    assert check["enforced"] is False and check["passed"] is True and check["platform"] in platforms.PLATFORMS
    body = api.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["platform"] is None and body["captions"] == {"enabled": False, "price": False, "cta": False}


@pytest.mark.parametrize(
    ("extra", "code", "field", "needle"),
    [
        ({"platform": "myspace"}, "validation_error", "platform", ""),
        ({"platform": "tiktok", "aspect_ratios": ["16:9"]}, "platform_rule", "aspect_ratios", "aspect_ratio"),
        ({"platform": "reels", "seconds": 2}, "platform_rule", "seconds", "duration_min"),
        ({"captions": {"enabled": False, "price": True}}, "caption_options", "captions", ""),
        ({"captions": {"price": True}}, "validation_error", "captions.enabled", ""),
        ({"captions": {"enabled": True, "colour": "red"}}, "validation_error", "captions.colour", ""),
        ({"captions": True}, "validation_error", "captions.non_field_errors", ""),
    ],
)
def test_bad_caption_and_platform_options_are_400s_with_codes(api, priced_product, extra, code, field, needle):
    body = {"product": priced_product.pk, "markets": ["de"], "seconds": 5, **extra}
    response = api.post("/api/v1/jobs", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code, error
    assert field in error["fields"], error
    assert needle in " ".join(error["fields"][field])
    assert not Job.objects.exists()
    # The estimate answers the same way.
    assert api.post("/api/v1/jobs/estimate", body, format="json").status_code == 400


def test_a_price_tag_needs_the_products_price(api, org, media_root):
    product = ProductFactory(organization=org, title="No price yet")
    PhotoFactory(product=product)
    body = {"product": product.pk, "markets": ["de"], "captions": {"enabled": True, "price": True}}
    response = api.post("/api/v1/jobs", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "caption_price_missing" and "No price yet" in error["fields"]["captions"][0]
    assert not Job.objects.exists()
    # Captions without the price tag are fine.
    body["captions"] = {"enabled": True}
    assert api.post("/api/v1/jobs", body, format="json").status_code == 201
