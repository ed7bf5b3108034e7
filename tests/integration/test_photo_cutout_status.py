"""Photos whose automatic cutout is refused or doubtful: kept, marked, shown to the merchant, and never made into a
delivered video before the merchant checked the cutout."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from billing import selectors as billing_selectors
from generation import services
from generation.models import Batch, Photo
from shop_video.merchants.api_keys import create_api_key
from tests import synthetic
from tests.factories import PhotoFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(services.dispatch, "_send", lambda *args, **kwargs: None)  # jobs are made, not run, here


def jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def busy_jpeg(seed: int = 0) -> bytes:
    return jpeg(synthetic.busy_scene(seed=seed)[0])


def white_jpeg(seed: int = 0) -> bytes:
    return jpeg(synthetic.product_on_white(seed=seed)[0])


def photo_needing_a_cutout(org) -> Photo:
    product = services.create_product_with_photos(
        organization=org, title="Sneakers", uploads=[("planks.jpg", busy_jpeg())]
    )
    return product.photos.get()


def api_for(org) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=org, name='t')[1]}")
    return client


def test_a_busy_photo_is_kept_as_needing_a_cutout_beside_the_good_ones(org):
    product = services.create_product_with_photos(
        organization=org, title="Mug", uploads=[("studio.jpg", white_jpeg()), ("desk.jpg", busy_jpeg())]
    )
    studio, desk = product.photos.order_by("id")
    assert (studio.cutout_method, studio.cutout_needs_review) == ("segmented", False)
    assert studio.cutout_confidence >= 0.6 and studio.mask
    assert desk.needs_cutout and not desk.mask and desk.cutout_method == "" and desk.cutout_confidence is None


def test_the_api_photo_shows_its_cutout_method_confidence_and_review(org):
    product = ProductFactory(organization=org)
    api = api_for(org)
    response = api.post("/api/v1/photos", {"product": product.pk, "file": io.BytesIO(busy_jpeg())}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["cutout_method"], body["cutout_confidence"], body["cutout_needs_review"]) == ("", None, True)
    assert body["mask_url"] is None


def test_a_job_on_a_photo_without_a_cutout_is_refused_and_nothing_is_reserved(org):
    photo = photo_needing_a_cutout(org)
    before = billing_selectors.credits_for(org)
    body = {"product": photo.product_id, "markets": ["us"], "aspect_ratios": ["1:1"]}

    response = api_for(org).post("/api/v1/jobs", json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "photo_needs_cutout"
    assert billing_selectors.credits_for(org) == before and not Batch.objects.exists()


def test_a_job_on_a_doubtful_cutout_is_accepted(org):
    photo = PhotoFactory(product__organization=org, cutout_confidence=0.4, cutout_needs_review=True)
    body = {"product": photo.product_id, "markets": ["us"], "aspect_ratios": ["1:1"]}
    response = api_for(org).post("/api/v1/jobs", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content  # rendered, then held for review (test_cutout_review)


def test_the_product_page_asks_to_check_each_kind_of_cutout(client_a, org):
    waiting = photo_needing_a_cutout(org)
    doubtful = PhotoFactory(product=waiting.product, cutout_confidence=0.42, cutout_needs_review=True)
    page = client_a.get(reverse("dashboard:product_detail", args=[waiting.product_id])).content.decode()
    assert page.count('data-cutout-check="needed"') == 1 and page.count('data-cutout-check="doubtful"') == 1
    assert "confidence 0.42" in page
    assert f'id="photo-{doubtful.pk}"' in page


def test_the_wizard_offers_only_checked_photos(client_a, org):
    waiting = photo_needing_a_cutout(org)
    doubtful = PhotoFactory(product=waiting.product, cutout_confidence=0.42, cutout_needs_review=True)
    good = PhotoFactory(product=waiting.product)
    page = client_a.get(reverse("dashboard:product_detail", args=[waiting.product_id])).content.decode()
    assert f'name="photos" value="{good.pk}"' in page
    assert f'name="photos" value="{waiting.pk}"' not in page and f'name="photos" value="{doubtful.pk}"' not in page
    assert "data-photos-to-check" in page


def test_a_mask_of_the_merchants_own_clears_the_check(org):
    photo = photo_needing_a_cutout(org)
    mask = np.zeros((photo.height, photo.width), np.uint8)
    mask[200:700, 200:500] = 255
    buf = io.BytesIO()
    Image.fromarray(mask, "L").save(buf, "PNG")
    services.set_photo_mask(photo=photo, upload=buf.getvalue())
    photo.refresh_from_db()
    assert (photo.cutout_method, photo.cutout_confidence, photo.cutout_needs_review) == ("supplied", 1.0, False)
    assert not photo.needs_cutout
