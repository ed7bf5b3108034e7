"""In Chromium: a merchant ticks "Price tag" for a product without a price, follows the error's link to the
product's price field, sets the price, and the price tag is then priced like any other option."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from generation.models import Product
from tests.e2e.test_languages import log_in
from tests.factories import MembershipFactory, PhotoFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _tick_price_tag(page) -> None:
    wizard = page.locator("#generate-form")
    for box in wizard.locator("input[name=photos]").all():
        box.check()
    wizard.locator("input[name=markets][value=de]").check()
    wizard.locator("input[name=captions]").check()
    wizard.locator("input[name=caption_price]").check()


def test_the_price_set_from_the_product_page_makes_the_price_tag_work(page, live_server):
    owner = MembershipFactory(user__username="ana@example.com", user__email="ana@example.com")
    photo = PhotoFactory(product__organization=owner.organization, product__title="Jasmine tin")
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:product_detail', args=[photo.product_id])}")

    _tick_price_tag(page)
    link = page.locator("#estimate [data-price-link]")
    link.wait_for()
    assert "set one for: Jasmine tin" in page.locator("#estimate").inner_text()
    link.click()

    price = page.locator("#id_product-price")
    price.wait_for()
    assert price.is_visible(), "the link opens the edit panel at the price field"
    price.fill("12.5")
    page.locator("#id_product-currency").fill("EUR")
    page.get_by_role("button", name="Save product").click()
    page.get_by_text("Product “Jasmine tin” saved.").wait_for()
    assert re.search(r"12,50\s€", page.locator("[data-product-price]").inner_text())
    product = Product.objects.get(pk=photo.product_id)
    assert (product.price, product.currency) == (Decimal("12.50"), "EUR")

    _tick_price_tag(page)
    page.locator("#estimate .estimate[data-videos]").wait_for()
    assert page.locator("#estimate [data-price-link]").count() == 0
    assert page.js_errors == []
