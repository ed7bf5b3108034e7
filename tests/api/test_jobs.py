"""/api/v1/jobs: create a matrix, estimate, list with filters, retrieve (state, progress, video), cancel, retry."""

from __future__ import annotations

import json

import pytest

from generation.models import Batch, Job
from tests.factories import JobFactory, ModelLookFactory, PhotoFactory, market

from .conftest import error_of, make_video

pytestmark = pytest.mark.django_db


def _post(api, body, path="/api/v1/jobs", **extra):
    return api.post(path, json.dumps(body), content_type="application/json", **extra)


def test_create_a_matrix(api, product):
    photos = list(product.photos.order_by("id"))
    body = {
        "product": product.pk,
        "markets": ["us", "de"],
        "aspect_ratios": ["9:16", "1:1"],
        "seconds": [5, 10],
        "resolution": "480p",
        "engine": "compositor",
        "seed": 7,
    }
    response = _post(api, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {"batch", "jobs"}
    assert len(data["jobs"]) == 2 * 2 * 2 * 2 == data["batch"]["job_count"] == data["batch"]["counts"]["queued"]
    batch = Batch.objects.get(pk=data["batch"]["id"])
    assert batch.source == "api" and batch.name == product.title and batch.organization == product.organization
    jobs = list(Job.objects.filter(batch=batch))
    assert {j.photo_id for j in jobs} == {p.pk for p in photos}
    assert {j.market.slug for j in jobs} == {"us", "de"} and {j.seconds for j in jobs} == {5, 10}
    assert {j.seed for j in jobs} == {7}
    first = data["jobs"][0]
    assert first["state"] == "queued" and first["progress"] == 0.0 and first["video"] is None and first["error"] is None
    assert first["product"] == product.pk and first["credits"] == first["seconds"] * 1


def test_empty_lists_mean_market_defaults(api, product):
    response = _post(api, {"product": product.pk, "markets": ["us"], "scenes": [], "aspect_ratios": [], "seconds": 5})
    assert response.status_code == 201, response.content
    jobs = response.json()["jobs"]
    us = api.get("/api/v1/markets/us").json()
    per_photo = [j for j in jobs if j["photo"] == jobs[0]["photo"]]
    assert sorted(j["aspect_ratio"] for j in per_photo) == sorted(us["aspect_ratios"])
    assert {j["scene"] for j in jobs} == {us["scenes"][0]} and {j["seconds"] for j in jobs} == {5}


def test_photos_selects_some_of_the_products_photos(api, product):
    photo = product.photos.order_by("id").last()
    response = _post(api, {"product": product.pk, "photos": [photo.pk], "markets": ["us"], "aspect_ratios": ["1:1"]})
    assert response.status_code == 201
    assert [j["photo"] for j in response.json()["jobs"]] == [photo.pk]


def test_model_looks_and_scenes(api, org, product):
    ModelLookFactory(organization=org, slug="our-model", market=market("us"))
    response = _post(
        api,
        {
            "product": product.pk,
            "photos": [product.photos.first().pk],
            "markets": ["us"],
            "scenes": ["studio-sweep", "marble-counter"],
            "model_looks": ["our-model"],
            "aspect_ratios": ["9:16"],
            "engine": "dit",  # only the DiT engine draws a person
        },
    )
    assert response.status_code == 201, response.content
    jobs = response.json()["jobs"]
    assert {j["scene"] for j in jobs} == {"studio-sweep", "marble-counter"} and {j["model_look"] for j in jobs} == {
        "our-model"
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"markets": []}, "markets"),
        ({"markets": ["zz"]}, "markets"),
        ({"markets": "us"}, "markets"),
        ({"scenes": ["no-such-scene"]}, "scenes"),
        ({"model_looks": ["no-such-look"], "engine": "dit"}, "model_looks"),
        ({"aspect_ratios": ["3:2"]}, "aspect_ratios"),
        ({"seconds": 0}, "seconds"),
        ({"seconds": 31}, "seconds"),
        ({"seconds": "five"}, "seconds"),
        ({"seconds": [5, True]}, "seconds"),
        ({"seconds": 10**30}, "seconds"),
        ({"resolution": "8k"}, "resolution"),
        ({"engine": "magic"}, "engine"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"seed": "x"}, "seed"),
        ({"product": "abc"}, "product"),
        ({"product": 10**40}, "product"),
        ({"product": None}, "product"),
        ({"photos": [0]}, "photos"),
        ({"photos": "1"}, "photos"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_validation_errors_name_the_field(api, product, change, field):
    body = {"product": product.pk, "markets": ["us"], **change}
    response = _post(api, body)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["fields"] or any(k.startswith(field + ".") for k in error["fields"]), error
    assert not Job.objects.exists()


def test_another_orgs_product_is_not_found(api, other_product):
    response = _post(api, {"product": other_product.pk, "markets": ["us"]})
    assert response.status_code == 400
    assert error_of(response)["code"] == "product_not_found"
    assert not Job.objects.exists()


def test_another_products_photo_is_refused(api, product, org):
    stranger_photo = PhotoFactory(product__organization=org)
    response = _post(api, {"product": product.pk, "markets": ["us"], "photos": [stranger_photo.pk]})
    assert response.status_code == 400
    assert error_of(response)["code"] == "photo_not_found"


def test_a_product_without_photos(api, org):
    from tests.factories import ProductFactory

    empty = ProductFactory(organization=org)
    response = _post(api, {"product": empty.pk, "markets": ["us"]})
    assert response.status_code == 400 and error_of(response)["code"] == "no_photos"


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "parse_error"),
        ("[1, 2]", "application/json", 400, "validation_error"),
        ('"just a string"', "application/json", 400, "validation_error"),
        ("null", "application/json", 400, "validation_error"),
        ('{"product": NaN, "markets": ["us"]}', "application/json", 400, "parse_error"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "parse_error"),
        ('{"product": 1' + "0" * 5000 + ', "markets": ["us"]}', "application/json", 400, "parse_error"),
        ("product=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("product=1", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_are_4xx(api, product, raw, content_type, status, code):
    response = api.post("/api/v1/jobs", raw, content_type=content_type)
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code


def test_a_huge_body_is_413(api, settings):
    settings.SHOPVIDEO_API_MAX_JSON_BYTES = 1000
    response = _post(api, {"product": 1, "markets": ["us"], "name": "x" * 2000})
    assert response.status_code == 413 and error_of(response)["code"] == "request_too_large"


def test_insufficient_credits_is_402_and_creates_nothing(api, product, org):
    from billing.selectors import credits_for
    from billing.services import debit_adjustment

    available = credits_for(org).available
    debit_adjustment(organization=org, credits=available - 1, reason="test")
    response = _post(api, {"product": product.pk, "markets": ["us"], "aspect_ratios": ["1:1"], "seconds": 5})
    assert response.status_code == 402, response.content
    error = error_of(response)
    assert error["code"] == "insufficient_credits" and error["required"] == 10 and error["available"] == 1
    assert not Job.objects.exists() and not Batch.objects.exists()


def test_estimate_prices_without_creating(api, product):
    body = {"product": product.pk, "markets": ["us", "de"], "aspect_ratios": ["9:16"], "seconds": [5, 10]}
    response = _post(api, body, path="/api/v1/jobs/estimate")
    assert response.status_code == 200, response.content
    # 2 photos × 2 markets × 1 aspect × (5 + 10) s at 1 credit/s (compositor, 480p)
    assert response.json() == {"credits": 2 * 2 * 15, "videos": 8, "seconds": 60.0}
    assert not Job.objects.exists() and not Batch.objects.exists()


def test_estimate_validation(api, product):
    response = _post(api, {"product": product.pk, "markets": ["zz"]}, path="/api/v1/jobs/estimate")
    assert response.status_code == 400 and error_of(response)["fields"] == {
        "markets.0": ['"zz" is not a valid choice.']
    }


def test_estimate_of_another_orgs_product(api, other_product):
    response = _post(api, {"product": other_product.pk, "markets": ["us"]}, path="/api/v1/jobs/estimate")
    assert response.status_code == 400 and error_of(response)["code"] == "product_not_found"


def test_list_with_filters(api, product, other_job):
    photo = product.photos.first()
    queued = JobFactory(photo=photo)
    failed = JobFactory(photo=photo, state=Job.State.FAILED, market=market("de"), error_code="qa_failed")
    ids = lambda **params: [j["id"] for j in api.get("/api/v1/jobs", params).json()["results"]]  # noqa: E731
    assert ids() == [failed.pk, queued.pk]
    assert ids(state="failed") == [failed.pk]
    assert ids(market="de") == [failed.pk]
    assert ids(batch=queued.batch_id) == [queued.pk]
    assert ids(product=product.pk) == [failed.pk, queued.pk]
    assert ids(product=other_job.photo.product_id) == []


@pytest.mark.parametrize("params", [{"state": "lost"}, {"batch": "x"}, {"product": "-1"}, {"market": "\x00"}])
def test_list_filter_validation(api, params):
    response = api.get("/api/v1/jobs", params)
    assert response.status_code == 400
    assert set(params) <= set(error_of(response)["fields"])


def test_retrieve_a_running_job(api, job):
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, progress=0.42, stage="render", attempt=1)
    body = api.get(f"/api/v1/jobs/{job.pk}").json()
    assert (body["state"], body["progress"], body["stage"], body["error"], body["video"]) == (
        "running",
        0.42,
        "render",
        None,
        None,
    )


def test_retrieve_a_failed_job_has_its_error(api, job):
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, error_code="not_an_image", error_message="Nope.")
    assert api.get(f"/api/v1/jobs/{job.pk}").json()["error"] == {"code": "not_an_image", "message": "Nope."}


def test_retrieve_a_finished_job_has_its_video_with_a_download_url(api, job):
    video = make_video(job)
    body = api.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["state"] == "succeeded" and body["video"]["id"] == video.pk
    download = api.get(body["video"]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == video.file.open("rb").read()
    assert "attachment" in download["Content-Disposition"]


def test_cancel(api, job):
    response = api.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "canceled"
    job.refresh_from_db()
    assert job.state == Job.State.CANCELED
    assert api.post(f"/api/v1/jobs/{job.pk}/cancel").json()["state"] == "canceled"  # a final job: unchanged


def test_retry(api, job):
    response = api.post(f"/api/v1/jobs/{job.pk}/retry")
    assert response.status_code == 409 and error_of(response)["code"] == "not_retryable"
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, error_code="boom")
    response = api.post(f"/api/v1/jobs/{job.pk}/retry")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "queued" and response.json()["error"] is None


@pytest.mark.parametrize("path", ["/api/v1/jobs/{id}", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/{id}/retry"])
def test_another_orgs_job_is_404(api, other_job, path):
    url = path.format(id=other_job.pk)
    response = api.get(url) if url.endswith(str(other_job.pk)) else api.post(url)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    other_job.refresh_from_db()
    assert other_job.state == Job.State.QUEUED


@pytest.mark.parametrize("suffix", ["abc", "1.5", "99999999999999999999999", "-1", "1/"])
def test_odd_ids_are_404(api, suffix):
    response = api.get(f"/api/v1/jobs/{suffix}")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


@pytest.fixture
def small_dit_model(settings, tmp_path):
    """A configured DiT model folder whose transformer config is Wan2.1-VACE-1.3B's (trained for 480p only)."""
    from tests.model_folders import config_only_folder

    settings.SHOPVIDEO_MODEL_PATH = str(config_only_folder(tmp_path / "vace-1.3b", "vace-1.3B"))
    return settings.SHOPVIDEO_MODEL_PATH


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/jobs/estimate"])
def test_720p_for_a_1_3b_model_is_refused_before_anything_is_reserved(api, product, org, small_dit_model, path):
    from billing.selectors import credits_for

    before = credits_for(org)
    body = {"product": product.pk, "markets": ["us"], "aspect_ratios": ["9:16"], "seconds": 5, "engine": "dit"}
    response = _post(api, {**body, "resolution": "720p"}, path=path)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "resolution_unsupported_by_model" and "480p" in error["fields"]["resolution"][0]
    assert not Job.objects.exists() and not Batch.objects.exists()
    after = credits_for(org)
    assert (after.reserved, after.available) == (before.reserved, before.available)


def test_480p_for_a_1_3b_model_is_accepted(api, product, small_dit_model):
    body = {"product": product.pk, "markets": ["us"], "aspect_ratios": ["1:1"], "seconds": 5, "engine": "dit"}
    response = _post(api, {**body, "resolution": "480p"}, path="/api/v1/jobs/estimate")
    assert response.status_code == 200, response.content
