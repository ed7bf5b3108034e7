"""/api/v1/photos: list, retrieve with a signed mask URL, add a photo, supply a mask; tenancy 404s."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from generation.models import Photo

from .conftest import error_of, mask_file, photo_file

pytestmark = pytest.mark.django_db


def test_list_and_filter_by_product(api, product, other_product):
    body = api.get("/api/v1/photos").json()
    assert sorted(p["id"] for p in body["results"]) == sorted(product.photos.values_list("id", flat=True))
    assert api.get("/api/v1/photos", {"product": other_product.pk}).json()["results"] == []
    assert len(api.get("/api/v1/photos", {"product": product.pk}).json()["results"]) == 2


def test_list_filter_validation(api):
    response = api.get("/api/v1/photos", {"product": "abc"})
    assert response.status_code == 400 and "product" in error_of(response)["fields"]


def test_retrieve_has_signed_urls_for_the_photo_and_its_mask(api, product):
    photo = product.photos.first()
    body = api.get(f"/api/v1/photos/{photo.pk}").json()
    assert body["id"] == photo.pk and body["product"] == product.pk and body["mask_source"] == "alpha"
    anonymous = APIClient()  # the signed URL is the credential: no key, no session
    mask = anonymous.get(body["mask_url"])
    assert mask.status_code == 200
    assert Image.open(io.BytesIO(b"".join(mask.streaming_content))).size == (photo.width, photo.height)
    original = anonymous.get(body["file_url"])
    assert original.status_code == 200 and b"".join(original.streaming_content) == photo.file.open("rb").read()


def test_add_a_photo_to_a_product(api, product):
    response = api.post(
        "/api/v1/photos", {"product": product.pk, "file": photo_file("side.png", 5)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["product"] == product.pk and body["original_name"] == "side.png"
    assert product.photos.count() == 3


def test_add_a_photo_with_its_mask(api, product):
    response = api.post(
        "/api/v1/photos",
        {"product": product.pk, "file": photo_file("side.png", 5), "mask": mask_file()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["mask_source"] == "supplied"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({}, "product", "validation_error"),
        ({"product": "x"}, "product", "validation_error"),
        ({"product": 99999999999999999999999}, "product", "validation_error"),
        ({"product": 10**17}, "product", "product_not_found"),
    ],
)
def test_add_photo_validation(api, data, field, code):
    response = api.post("/api/v1/photos", {**data, "file": photo_file()}, format="multipart")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == code and field in error["fields"]


def test_add_photo_that_is_not_an_image(api, product):
    bad = SimpleUploadedFile("x.png", b"nope", content_type="image/png")
    response = api.post("/api/v1/photos", {"product": product.pk, "file": bad}, format="multipart")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] not in ("validation_error", "internal_error") and "file" in error["fields"]


def test_add_photo_to_another_orgs_product_is_not_found(api, other_product):
    response = api.post("/api/v1/photos", {"product": other_product.pk, "file": photo_file()}, format="multipart")
    assert response.status_code == 400
    assert error_of(response)["code"] == "product_not_found"
    assert other_product.photos.count() == 1


def test_photo_create_wants_multipart(api, product):
    response = api.post("/api/v1/photos", {"product": product.pk}, format="json")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_supply_a_mask(api, product):
    photo = product.photos.first()
    response = api.post(
        f"/api/v1/photos/{photo.pk}/mask", {"mask": mask_file((photo.width, photo.height))}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["mask_source"] == "supplied"
    photo.refresh_from_db()
    assert photo.mask_source == Photo.MaskSource.SUPPLIED
    with photo.mask.open("rb") as fh:
        mask = np.array(Image.open(fh))
    assert mask[photo.height // 2, photo.width // 2] == 255 and mask[2, 2] == 0


def test_a_mask_that_is_not_an_image_is_400(api, product):
    photo = product.photos.first()
    bad = SimpleUploadedFile("mask.png", b"garbage", content_type="image/png")
    response = api.post(f"/api/v1/photos/{photo.pk}/mask", {"mask": bad}, format="multipart")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_mask" and "mask" in error["fields"]


def test_a_missing_mask_is_400(api, product):
    response = api.post(f"/api/v1/photos/{product.photos.first().pk}/mask", {}, format="multipart")
    assert response.status_code == 400 and "mask" in error_of(response)["fields"]


@pytest.mark.parametrize("path", ["/api/v1/photos/{id}", "/api/v1/photos/{id}/mask"])
def test_another_orgs_photo_is_404(api, other_product, path):
    photo = other_product.photos.first()
    url = path.format(id=photo.pk)
    response = api.get(url) if url.endswith(str(photo.pk)) else api.post(url, {"mask": mask_file()}, format="multipart")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    photo.refresh_from_db()
    assert photo.mask_source == "alpha"
