"""/api/v1/products: create (multipart photos, photo URLs), list, retrieve, update, delete; tenancy 404s."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.models import Job, Photo, Product
from tests.factories import ProductFactory

from .conftest import error_of, photo_file

pytestmark = pytest.mark.django_db


def test_create_with_photos_returns_the_product_and_its_photo_ids(api, org):
    response = api.post(
        "/api/v1/products",
        {
            "title": "Amber bottle",
            "sku": "AB-1",
            "category": "home",
            "photos": [photo_file("a.png", 1), photo_file("b.png", 2)],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    product = Product.objects.get(pk=body["id"])
    assert product.organization == org and product.title == "Amber bottle" and product.sku == "AB-1"
    assert body["photo_ids"] == list(product.photos.order_by("created_at", "id").values_list("id", flat=True))
    assert len(body["photo_ids"]) == 2 and [p["original_name"] for p in body["photos"]] == ["a.png", "b.png"]
    assert all(p["mask_source"] for p in body["photos"])


def test_create_needs_a_photo(api):
    response = api.post("/api/v1/products", {"title": "No photo"}, format="multipart")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "photos_required" and "photos" in error["fields"]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sku": "X"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Ok", "category": "spaceships"}, "category"),
        ({"title": "Ok", "sku": "s" * 101}, "sku"),
        ({"title": "Ok", "colour": "red"}, "colour"),
    ],
)
def test_create_validation_errors_name_the_field(api, data, field):
    response = api.post("/api/v1/products", {**data, "photos": [photo_file()]}, format="multipart")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error" and field in error["fields"]
    assert not Product.objects.exists()


def test_a_bad_photo_rejects_everything_and_names_the_file(api):
    bad = SimpleUploadedFile("notes.png", b"this is not an image", content_type="image/png")
    response = api.post("/api/v1/products", {"title": "T", "photos": [photo_file(), bad]}, format="multipart")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "upload_rejected"
    assert [f["filename"] for f in body["files"]] == ["notes.png"] and body["files"][0]["code"]
    assert not Product.objects.exists() and not Photo.objects.exists()


def test_duplicate_sku_is_409(api, org):
    ProductFactory(organization=org, sku="DUP")
    response = api.post("/api/v1/products", {"title": "T", "sku": "DUP", "photos": [photo_file()]}, format="multipart")
    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_sku"


def test_the_same_sku_in_another_org_is_fine(api, other_org):
    ProductFactory(organization=other_org, sku="SAME")
    response = api.post("/api/v1/products", {"title": "T", "sku": "SAME", "photos": [photo_file()]}, format="multipart")
    assert response.status_code == 201


def test_photo_urls_to_private_addresses_are_refused(api):
    response = api.post(
        "/api/v1/products",
        {"title": "T", "photo_urls": ["http://127.0.0.1/a.png", "http://169.254.169.254/latest/meta-data"]},
        format="json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "photo_url_rejected"
    assert set(error["fields"]) == {"photo_urls.0", "photo_urls.1"}
    assert not Product.objects.exists()


def test_photo_urls_must_be_urls(api):
    response = api.post("/api/v1/products", {"title": "T", "photo_urls": ["file:///etc/passwd"]}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"]


def test_photo_urls_are_fetched_from_an_allowed_server(api, settings, image_server):
    settings.SHOPVIDEO_FETCH_ALLOWLIST = [image_server.hostport]
    response = api.post(
        "/api/v1/products", {"title": "Fetched", "photo_urls": [image_server.url("bottle.png")]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["photo_ids"]) == 1


def test_list_is_cursor_paginated_newest_first(api, org, other_org):
    products = [ProductFactory(organization=org) for _ in range(5)]
    ProductFactory(organization=other_org)
    first = api.get("/api/v1/products", {"page_size": 2}).json()
    assert [p["id"] for p in first["results"]] == [products[4].pk, products[3].pk]
    assert first["previous"] is None and first["next"]
    second = api.get(first["next"]).json()
    assert [p["id"] for p in second["results"]] == [products[2].pk, products[1].pk]
    third = api.get(second["next"]).json()
    assert [p["id"] for p in third["results"]] == [products[0].pk] and third["next"] is None


def test_list_filters_by_sku(api, org):
    ProductFactory(organization=org, sku="A-1")
    wanted = ProductFactory(organization=org, sku="B-2")
    body = api.get("/api/v1/products", {"sku": "B-2"}).json()
    assert [p["id"] for p in body["results"]] == [wanted.pk]


@pytest.mark.parametrize(
    "params", [{"cursor": "garbage"}, {"page_size": "0"}, {"page_size": "x"}, {"page_size": "100000"}]
)
def test_bad_paging_is_400(api, params):
    response = api.get("/api/v1/products", params)
    assert response.status_code == 400
    assert error_of(response)["code"] in {"invalid_cursor", "invalid_page_size"}


def test_retrieve(api, product):
    body = api.get(f"/api/v1/products/{product.pk}").json()
    assert body["id"] == product.pk and body["title"] == product.title and len(body["photo_ids"]) == 2


def test_update(api, product):
    response = api.patch(f"/api/v1/products/{product.pk}", {"title": "New title", "category": "beauty"}, format="json")
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.title, product.category) == ("New title", "beauty")
    assert response.json()["title"] == "New title"


@pytest.mark.parametrize(
    ("data", "field"),
    [({"title": ""}, "title"), ({"category": "x"}, "category"), ({"photos": []}, "photos"), ({"title": 5.5}, None)],
)
def test_update_validation_errors(api, product, data, field):
    response = api.patch(f"/api/v1/products/{product.pk}", data, format="json")
    if field is None:  # a number is not a title, but DRF's CharField takes it as text: accepted
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_update_to_a_taken_sku_is_409(api, org, product):
    ProductFactory(organization=org, sku="TAKEN")
    response = api.patch(f"/api/v1/products/{product.pk}", {"sku": "TAKEN"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_sku"


def test_delete_removes_the_product_its_photos_and_their_files(api, product, monkeypatch):
    names = [n for p in product.photos.all() for n in (p.file.name, p.mask.name)]
    assert all(default_storage.exists(n) for n in names)
    from django.test import TestCase

    from shop_video.celery import app

    # The files go in a background task (shop_video.ops.lifecycle): run it here as the worker would.
    monkeypatch.setitem(app.conf, "task_always_eager", True)

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.delete(f"/api/v1/products/{product.pk}")
    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists() and not Photo.objects.filter(product=product.pk).exists()
    assert not any(default_storage.exists(n) for n in names)


def test_delete_is_refused_while_jobs_are_active(api, job):
    product = job.photo.product
    response = api.delete(f"/api/v1/products/{product.pk}")
    assert response.status_code == 409
    assert error_of(response)["code"] == "product_has_active_jobs"
    Job.objects.filter(pk=job.pk).update(state=Job.State.CANCELED)
    assert api.delete(f"/api/v1/products/{product.pk}").status_code == 204


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_orgs_product_is_404(api, other_product, method):
    response = getattr(api, method)(f"/api/v1/products/{other_product.pk}", {"title": "x"}, format="json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    other_product.refresh_from_db()
    assert other_product.title != "x"


def test_another_orgs_product_is_not_listed(api, other_product):
    assert api.get("/api/v1/products").json()["results"] == []


def test_delete_after_billed_jobs_were_canceled(api, product):
    from django.test import TestCase

    created = api.post(
        "/api/v1/jobs", {"product": product.pk, "markets": ["us"], "aspect_ratios": ["1:1"]}, format="json"
    )
    assert created.status_code == 201, created.content
    with TestCase.captureOnCommitCallbacks(execute=True):
        for job in created.json()["jobs"]:
            assert api.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 200
        response = api.delete(f"/api/v1/products/{product.pk}")
    assert response.status_code == 204, response.content
    assert not Job.objects.filter(photo__product_id=product.pk).exists()
