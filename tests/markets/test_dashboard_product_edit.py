"""Editing a saved product on its dashboard page through the Django test client: title, SKU, category and
price (with the price shown as each market's captions write it), refused prices next to their field, photos
added and removed, the wizard's price-tag error linking to the price field, and another organization's product
untouched."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import Job, Product
from tests import synthetic
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory, ensure_presets

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _presets(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_presets()


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Amber glass bottle", sku="AB-1")
    PhotoFactory(product=product, original_name="front.png")
    return product


def _edit(product, **overrides) -> dict:
    data = {"title": product.title, "sku": product.sku, "category": product.category, "price": "", "currency": ""}
    data.update(overrides)
    return {f"product-{key}": value for key, value in data.items()}


def test_the_product_page_edits_title_sku_category_and_price(client_a, product):
    url = reverse("dashboard:product_edit", args=[product.pk])
    data = _edit(product, title="Amber bottle 100 ml", sku="AB-100", category="beauty", price="19.9", currency="eur")
    response = client_a.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert (product.title, product.sku, product.category) == ("Amber bottle 100 ml", "AB-100", "beauty")
    assert (product.price, product.currency) == (Decimal("19.90"), "EUR")
    detail = client_a.get(reverse("dashboard:product_detail", args=[product.pk])).content.decode()
    # Written as captions write it: German 19,90 €, US €19.90.
    assert "19,90\xa0€" in detail and "€19.90" in detail


def test_a_bad_price_is_a_400_next_to_the_field_and_nothing_is_saved(client_a, product):
    url = reverse("dashboard:product_edit", args=[product.pk])
    response = client_a.post(url, _edit(product, title="Renamed", price="12.5", currency="JPY"))
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        "JPY prices have at most 0 decimal places." in body and "<details" in body and 'id="product-edit" open' in body
    )
    product.refresh_from_db()
    assert product.title == "Amber glass bottle" and product.price is None


def test_a_rename_keeps_an_imported_price_without_a_currency(client_a, product):
    Product.objects.filter(pk=product.pk).update(price=Decimal("7.50"), currency="")
    product.refresh_from_db()
    url = reverse("dashboard:product_edit", args=[product.pk])
    response = client_a.post(url, _edit(product, title="Renamed", price="7.50"))
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert (product.title, product.price, product.currency) == ("Renamed", Decimal("7.50"), "")


def test_photos_are_added_from_the_product_page(client_a, product):
    buf = io.BytesIO()
    synthetic.product_on_white(400, 500, seed=3)[0].save(buf, "PNG")
    upload = SimpleUploadedFile("side.png", buf.getvalue(), content_type="image/png")
    response = client_a.post(reverse("dashboard:photo_add", args=[product.pk]), {"photos": [upload]})
    assert response.status_code == 302
    assert sorted(product.photos.values_list("original_name", flat=True)) == ["front.png", "side.png"]


def test_the_price_tag_error_links_to_the_price_field(client_a, product):
    wizard = {
        "photos": [str(product.photos.get().pk)],
        "markets": ["de"],
        "seconds": ["5"],
        "resolution": "480p",
        "engine": "compositor",
        "name": "",
        "captions": "on",
        "caption_price": "on",
    }
    link = reverse("dashboard:product_detail", args=[product.pk]) + "?edit=price#id_product-price"
    estimate = client_a.post(reverse("dashboard:estimate"), wizard, HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{link}"' in estimate
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), wizard)
    assert response.status_code == 400 and f'href="{link}"' in response.content.decode()
    assert not Job.objects.exists()
    opened = client_a.get(link.split("#")[0]).content.decode()
    assert 'id="product-edit" open' in opened and 'id="id_product-price"' in opened


def test_another_organizations_product_cannot_be_edited(client_a):
    other = ProductFactory(title="Someone else's bottle")
    response = client_a.post(
        reverse("dashboard:product_edit", args=[other.pk]), _edit(other, price="1", currency="EUR")
    )
    assert response.status_code == 404
    assert Product.objects.get(pk=other.pk).price is None


def test_a_viewer_cannot_edit_a_product(client, product):
    viewer = MembershipFactory(organization=product.organization, role="viewer")
    client.force_login(viewer.user)
    response = client.post(reverse("dashboard:product_edit", args=[product.pk]), _edit(product, title="Nope"))
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.title == "Amber glass bottle"


def test_a_photo_without_videos_is_removed_with_its_file(client_a, product, django_capture_on_commit_callbacks):
    photo = product.photos.get()
    name = photo.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(reverse("dashboard:photo_remove", args=[photo.pk]))
    assert response.status_code == 302
    assert not product.photos.exists() and not default_storage.exists(name)


def test_a_photo_videos_were_made_from_stays(client_a, product):
    photo = product.photos.get()
    JobFactory(photo=photo)
    response = client_a.post(reverse("dashboard:photo_remove", args=[photo.pk]), follow=True)
    assert "Videos were made from front.png: it stays with them." in response.content.decode()
    assert product.photos.filter(pk=photo.pk).exists()


def test_another_organizations_photo_cannot_be_removed(client_a):
    other = PhotoFactory()
    assert client_a.post(reverse("dashboard:photo_remove", args=[other.pk])).status_code == 404
    assert other.product.photos.filter(pk=other.pk).exists()
