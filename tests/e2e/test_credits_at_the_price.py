"""In Chromium: a merchant whose balance is short sees it at the price, with what to do, before pressing Submit."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from generation.models import Batch
from tests.e2e.test_languages import log_in
from tests.factories import MembershipFactory, PhotoFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@override_settings(STRIPE_SECRET_KEY="sk_test_price_box")
def test_thirty_credits_and_a_180_credit_matrix_warns_at_the_price_before_submit(page, live_server):
    owner = MembershipFactory(organization__credits=30, user__username="mei@example.com", user__email="mei@example.com")
    photo = PhotoFactory(product__organization=owner.organization, product__title="Jasmine tin")
    base = live_server.url
    log_in(page, base, "mei@example.com")
    page.goto(f"{base}{reverse('dashboard:product_detail', args=[photo.product_id])}")

    # Three markets with their default formats (4 each) at 15 s: 12 videos, 180 credits at 1 credit per second.
    for market in ("us", "de", "jp"):
        page.locator(f'input[name="markets"][value="{market}"]').check()
    page.locator('input[name="seconds"][value="15"]').check()
    page.locator('input[name="seconds"][value="5"]').uncheck()
    page.wait_for_selector('#estimate [data-credits="180"]')

    price = page.locator("#estimate")
    assert "12 videos · 180 credits" in price.inner_text()
    assert "Balance: 30 credits available" in price.inner_text()
    warning = price.get_by_role("alert")
    assert warning.is_visible()
    assert "150 credits missing for this price. Buy a credit pack" in warning.inner_text()
    link = price.get_by_role("link", name="Buy credits")
    assert link.get_attribute("href") == reverse("billing:overview")
    assert Batch.objects.count() == 0  # all of it before Submit
    link.click()
    page.wait_for_url(f"{base}{reverse('billing:overview')}")
    assert page.js_errors == []
