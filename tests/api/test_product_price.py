"""/api/v1/products with a price: create and patch with `price` and `currency`, refused amounts and codes (400
with a stable code naming the field), and another organization's product untouched."""

from __future__ import annotations

from decimal import Decimal

import pytest

from generation.models import Product

from .conftest import error_of, photo_file

pytestmark = pytest.mark.django_db


def test_create_with_a_price_stores_and_returns_it(api):
    response = api.post(
        "/api/v1/products",
        {"title": "Amber bottle", "price": "19.90", "currency": "eur", "photos": [photo_file()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["price"], body["currency"]) == ("19.90", "EUR")
    product = Product.objects.get(pk=body["id"])
    assert (product.price, product.currency) == (Decimal("19.90"), "EUR")


def test_patch_sets_a_price_as_a_json_number(api, product):
    response = api.patch(f"/api/v1/products/{product.pk}", {"price": 2000, "currency": "JPY"}, format="json")
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.price, product.currency) == (Decimal("2000"), "JPY")
    assert response.json()["price"] == "2000.00"


def test_patch_null_removes_the_price(api, product):
    Product.objects.filter(pk=product.pk).update(price=Decimal("5"), currency="USD")
    response = api.patch(f"/api/v1/products/{product.pk}", {"price": None}, format="json")
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.price is None and response.json()["price"] is None


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"price": "-1", "currency": "EUR"}, "invalid_price", "price"),
        ({"price": "abc", "currency": "EUR"}, "invalid_price", "price"),
        ({"price": "19.999", "currency": "EUR"}, "invalid_price", "price"),
        ({"price": "2000.5", "currency": "JPY"}, "invalid_price", "price"),
        ({"price": "1e15", "currency": "USD"}, "invalid_price", "price"),
        ({"price": "10", "currency": "EURO"}, "invalid_currency", "currency"),
        ({"price": "10", "currency": "XYZ"}, "invalid_currency", "currency"),
        ({"price": "10"}, "currency_required", "currency"),
    ],
)
def test_a_bad_price_or_currency_is_400_with_its_code(api, product, data, code, field):
    response = api.patch(f"/api/v1/products/{product.pk}", data, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == code and field in error["fields"]
    product.refresh_from_db()
    assert product.price is None


def test_create_with_a_bad_price_stores_nothing(api):
    response = api.post(
        "/api/v1/products",
        {"title": "Amber bottle", "price": "1.234", "currency": "USD", "photos": [photo_file()]},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "invalid_price"
    assert not Product.objects.exists()


def test_a_rename_keeps_an_imported_price_without_a_currency(api, product):
    Product.objects.filter(pk=product.pk).update(price=Decimal("7.50"), currency="")
    response = api.patch(f"/api/v1/products/{product.pk}", {"title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.title, product.price, product.currency) == ("Renamed", Decimal("7.50"), "")


def test_another_orgs_product_price_cannot_be_set(api, other_product):
    response = api.patch(f"/api/v1/products/{other_product.pk}", {"price": "1", "currency": "EUR"}, format="json")
    assert response.status_code == 404
    other_product.refresh_from_db()
    assert other_product.price is None
