"""Idempotency-Key on creating POSTs: replay, 422 on another body, errors not kept, concurrent requests."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from generation.models import Batch, Job, Photo, Product
from shop_video.api.models import IdempotencyRecord

from .conftest import error_of, photo_file

pytestmark = pytest.mark.django_db


def _jobs(api, body, key, **extra):
    return api.post(
        "/api/v1/jobs", json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **extra
    )


def test_same_key_same_body_replays_the_response(api, product):
    body = {"product": product.pk, "markets": ["us"], "aspect_ratios": ["1:1"]}
    first = _jobs(api, body, "k-1")
    assert first.status_code == 201
    again = _jobs(api, body, "k-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Batch.objects.count() == 1 and Job.objects.count() == 2


def test_key_order_and_whitespace_in_the_json_do_not_matter(api, product):
    a = api.post(
        "/api/v1/jobs",
        f'{{"product": {product.pk}, "markets": ["us"], "aspect_ratios": ["1:1"]}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    b = api.post(
        "/api/v1/jobs",
        f'{{ "aspect_ratios":["1:1"],"markets":["us"],"product":{product.pk} }}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert a.status_code == b.status_code == 201 and a.json() == b.json() and Batch.objects.count() == 1


def test_same_key_another_body_is_422(api, product):
    assert _jobs(api, {"product": product.pk, "markets": ["us"]}, "k-3").status_code == 201
    response = _jobs(api, {"product": product.pk, "markets": ["de"]}, "k-3")
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Batch.objects.count() == 1


def test_same_key_on_another_endpoint_is_422(api, product):
    body = {"product": product.pk, "markets": ["us"]}
    assert _jobs(api, body, "k-4").status_code == 201
    response = api.post(
        "/api/v1/photos", {"product": product.pk, "file": photo_file()}, format="multipart", HTTP_IDEMPOTENCY_KEY="k-4"
    )
    assert response.status_code == 422 and error_of(response)["code"] == "idempotency_key_reused"


def test_multipart_replay_compares_file_contents(api):
    def post(seed):
        return api.post(
            "/api/v1/products",
            {"title": "T", "photos": [photo_file("a.png", seed)]},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="k-5",
        )

    first = post(1)
    assert first.status_code == 201
    replay = post(1)  # a new multipart boundary, the same fields and bytes
    assert replay.status_code == 201 and replay.json() == first.json() and Product.objects.count() == 1
    other = post(2)  # same file name, other bytes
    assert other.status_code == 422 and Photo.objects.count() == 1


def test_an_error_is_not_kept_and_the_key_can_be_used_again(api, product):
    bad = _jobs(api, {"product": product.pk, "markets": ["zz"]}, "k-6")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-6").exists()
    good = _jobs(api, {"product": product.pk, "markets": ["us"]}, "k-6")
    assert good.status_code == 201


def test_keys_are_per_organization(api, other_api, product, other_product):
    assert _jobs(api, {"product": product.pk, "markets": ["us"]}, "shared").status_code == 201
    theirs = _jobs(other_api, {"product": other_product.pk, "markets": ["us"]}, "shared")
    assert theirs.status_code == 201 and Batch.objects.count() == 2


@pytest.mark.parametrize("idem", ["", " ", "x" * 256, "tab\tkey", "é"])
def test_an_invalid_key_is_400(api, product, idem):
    response = api.post(
        "/api/v1/jobs",
        json.dumps({"product": product.pk, "markets": ["us"]}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idem,
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_idempotency_key"
    assert not Job.objects.exists()


def test_without_a_key_each_post_creates(api, product):
    body = json.dumps({"product": product.pk, "markets": ["us"]})
    api.post("/api/v1/jobs", body, content_type="application/json")
    api.post("/api/v1/jobs", body, content_type="application/json")
    assert Batch.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_once(live_server, org, key, product):
    secret = key[1]
    body = json.dumps({"product": product.pk, "markets": ["us", "de"], "aspect_ratios": ["9:16", "1:1"]})
    results: list[tuple[int, dict]] = []
    replayed: list[bool] = []
    start = threading.Barrier(6)

    def post():
        start.wait()
        r = requests.post(
            f"{live_server.url}/api/v1/jobs",
            data=body,
            headers={
                "Authorization": f"Bearer {secret}",
                "Content-Type": "application/json",
                "Idempotency-Key": "concurrent-1",
            },
            timeout=60,
        )
        results.append((r.status_code, r.json()))
        replayed.append(r.headers.get("Idempotent-Replayed") == "true")

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert len(results) == 6
    assert {status for status, _ in results} == {201}, results
    assert len({json.dumps(b, sort_keys=True) for _, b in results}) == 1
    assert sorted(replayed) == [False] + [True] * 5  # one request made it, five waited and got its response
    assert Batch.objects.filter(organization=org).count() == 1
    assert Job.objects.filter(organization=org).count() == 2 * 2 * 2
