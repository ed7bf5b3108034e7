"""POST /api/v1/photos/{id}/cutout: a box (and strokes) around the product → the guided cutout stored as the
photo's mask under a new name, the photo returned with method, confidence and review mark."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import Photo
from tests import synthetic
from tests.incontext import busy_scene_photo, padded_box

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def busy_photo(org) -> tuple[Photo, np.ndarray]:
    """An in-context photo (a product on a cluttered background) that needs a cutout, with its true mask."""
    return busy_scene_photo(org, checksum="b" * 64)


def _post(api, photo_id: int, body: dict, **extra):
    return api.post(f"/api/v1/photos/{photo_id}/cutout", json.dumps(body), content_type="application/json", **extra)


def _stored_mask(photo: Photo) -> np.ndarray:
    with default_storage.open(photo.mask.name, "rb") as fh:
        return np.array(Image.open(fh)) > 127


def test_a_box_cuts_the_product_out_and_clears_the_check(api, busy_photo):
    photo, truth = busy_photo
    response = _post(api, photo.pk, {"box": list(padded_box(truth))})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["cutout_method"], body["mask_source"], body["cutout_needs_review"]) == ("guided", "guided", False)
    assert 0.5 <= body["cutout_confidence"] <= 1.0 and body["mask_url"]
    photo.refresh_from_db()
    assert synthetic.iou(_stored_mask(photo), truth) >= 0.9


def test_a_new_box_stores_a_new_mask_file(api, busy_photo, django_capture_on_commit_callbacks):
    photo, truth = busy_photo
    _post(api, photo.pk, {"box": list(padded_box(truth))})
    first = Photo.objects.get(pk=photo.pk).mask.name
    with django_capture_on_commit_callbacks(execute=True):  # the old file is removed once the new one is saved
        second_response = _post(api, photo.pk, {"box": list(padded_box(truth, 0.1))})
    assert second_response.status_code == 200
    second = Photo.objects.get(pk=photo.pk).mask.name
    assert second != first and not default_storage.exists(first)
    assert second_response.json()["mask_url"] != ""


def test_strokes_are_taken(api, busy_photo):
    photo, truth = busy_photo
    x0, y0, x1, y1 = padded_box(truth)
    remove = [[[x0 + 2, y0 + 2], [x1 - 2, y0 + 2]]]  # along the box's top edge: background
    response = _post(api, photo.pk, {"box": [x0, y0, x1, y1], "remove": remove, "keep": []})
    assert response.status_code == 200, response.content
    assert not _stored_mask(Photo.objects.get(pk=photo.pk))[y0 + 2, (x0 + x1) // 2]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"box": [5000, 5000, 6000, 6000]}, "cutout_box_invalid"),
        ({"box": [10, 10, 12, 12]}, "cutout_box_invalid"),
        ({"box": [0, 0, 10**6, 10**6]}, "cutout_box_invalid"),
        ({"box": [1, 2, 3]}, "validation_error"),
        ({"box": "everything"}, "validation_error"),
        ({"box": [10, 10, 300, 300], "keep": [[[1, 2, 3]]]}, "validation_error"),
        ({"box": [10, 10, 300, 300], "colour": "red"}, "validation_error"),
        ({}, "validation_error"),
    ],
)
def test_bad_guides_are_a_400_with_a_code_and_change_nothing(api, busy_photo, body, code):
    photo, _truth = busy_photo
    response = _post(api, photo.pk, body)
    assert response.status_code == 400
    assert error_of(response)["code"] == code
    photo.refresh_from_db()
    assert not photo.mask and photo.needs_cutout


def test_another_organizations_photo_is_a_404(other_api, busy_photo):
    photo, truth = busy_photo
    response = _post(other_api, photo.pk, {"box": list(padded_box(truth))})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    photo.refresh_from_db()
    assert not photo.mask


def test_the_idempotency_key_replays_the_first_answer(api, busy_photo):
    photo, truth = busy_photo
    first = _post(api, photo.pk, {"box": list(padded_box(truth))}, HTTP_IDEMPOTENCY_KEY="cut-1")
    mask = Photo.objects.get(pk=photo.pk).mask.name
    again = _post(api, photo.pk, {"box": list(padded_box(truth))}, HTTP_IDEMPOTENCY_KEY="cut-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Photo.objects.get(pk=photo.pk).mask.name == mask  # not cut again


def test_the_schema_documents_the_endpoint_with_an_example(db):
    schema = client_for(None).get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/photos/{id}/cutout"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["examples"] and "box" in schema["components"]["schemas"]["CutoutRequestRequest"]["properties"]
    assert "cutout_box_invalid" in json.dumps(operation["responses"]["400"])
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
