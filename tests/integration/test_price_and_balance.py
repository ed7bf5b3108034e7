"""The price beside the balance: the wizard's live price (htmx) breaks the total down by market, format and duration,
shows the credits available, warns before submitting when they are short, and links to where credits come from."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from billing.services.ledger import grant_credits
from generation import services
from generation.services import VariantMatrix
from tests.factories import MembershipFactory, PhotoFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Each market's default formats, read off its platforms in the preset table (tiktok/reels/shorts 9:16, amazon 16:9 and
# 1:1, shopify 1:1 and 4:5, youtube 16:9, feed 4:5): written out here so that the count does not reuse the code under
# test.
DEFAULT_FORMATS = {
    "us": {"9:16", "16:9", "1:1", "4:5"},  # tiktok, reels, shorts, amazon, shopify, youtube
    "de": {"9:16", "16:9", "1:1", "4:5"},  # tiktok, reels, amazon, shopify, feed
    "sa": {"9:16", "16:9", "1:1"},  # tiktok, reels, shorts, amazon
    "jp": {"9:16", "16:9", "1:1", "4:5"},  # tiktok, reels, shorts, amazon, feed
}


@pytest.fixture
def member(db):
    """An owner whose shop starts with no credits: each test grants the balance it needs."""
    return MembershipFactory(organization__credits=0)


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Amber glass bottle", sku="AMB-1")
    PhotoFactory(product=product, original_name="front.png")
    return product


def text(response) -> str:
    return response.content.decode()


def wizard_price(client, product, **overrides):
    data = {
        "photos": [str(p.pk) for p in product.photos.all()],
        "markets": ["us", "de", "jp"],
        "seconds": ["15"],  # 12 videos at 15 credits each (compositor, 480p): 180 credits
        "resolution": "480p",
        "engine": "compositor",
        "name": "",
    }
    data.update(overrides)
    return client.post(reverse("dashboard:estimate"), data, HTTP_HX_REQUEST="true")


def test_breakdown_counts_markets_formats_and_durations(org):
    photos = PhotoFactory.create_batch(2, product__organization=org)
    matrix = VariantMatrix(markets=["us", "de", "sa"], seconds=[5, 10])

    estimate = services.estimate_batch(organization=org, photos=photos, matrix=matrix)

    expected = {
        (market, aspect, seconds): (len(photos), len(photos) * seconds)  # 1 credit per second at 480p
        for market, formats in DEFAULT_FORMATS.items()
        if market in {"us", "de", "sa"}
        for aspect in formats
        for seconds in (5, 10)
    }
    got = {(line.market, line.aspect_ratio, line.seconds): (line.videos, line.credits) for line in estimate.lines}
    assert got == expected
    assert {line.engine for line in estimate.lines} == {"compositor"}
    assert estimate.videos == sum(v for v, _c in expected.values()) == 2 * 11 * 2
    assert estimate.credits == sum(c for _v, c in expected.values()) == 2 * 11 * 15


def test_breakdown_in_the_price_box_says_which_formats_make_the_videos(client_a, product):
    page = text(wizard_price(client_a, product, markets=["us", "de", "sa"], seconds=["5"]))

    assert "11 videos · 55 credits" in page
    lines = re.findall(r'data-market="(\w+)" data-aspect="([\d:]+)" data-seconds="(\d+)"', page)
    assert sorted(lines) == sorted((m, a, "5") for m in ("us", "de", "sa") for a in DEFAULT_FORMATS[m])
    assert "Compositor (CPU): 11 videos · 55 credits" in page
    assert "Saudi Arabia · 16:9 · 5 s · 480p: 1 video · 5 credits" in page


@override_settings(STRIPE_SECRET_KEY="sk_test_price_box")
def test_short_balance_warns_at_the_price_with_a_link_to_buy(client_a, org, product):
    grant_credits(organization=org, credits=30, reason="test")

    page = text(wizard_price(client_a, product))

    assert "12 videos · 180 credits" in page
    assert "Balance: 30 credits available" in page
    assert "150 credits missing for this price. Buy a credit pack" in page
    assert f'data-get-credits href="{reverse("billing:overview")}">Buy credits</a>' in page


@override_settings(STRIPE_SECRET_KEY="")
def test_short_balance_in_free_credits_mode_points_to_the_operators_grant(client_a, org, product):
    grant_credits(organization=org, credits=30, reason="test")

    page = text(wizard_price(client_a, product))

    assert "150 credits missing for this price. Payments are off on this installation: ask an operator" in page
    assert f'data-get-credits href="{reverse("billing:overview")}#demo-mode">Ask for credits</a>' in page
    overview = text(client_a.get(reverse("billing:overview")))
    assert 'id="demo-mode"' in overview


def test_enough_credits_shows_the_balance_without_a_warning(client_a, org, product):
    grant_credits(organization=org, credits=500, reason="test")

    page = text(wizard_price(client_a, product))

    assert "Balance: 500 credits available" in page
    assert "data-credits-short" not in page
    assert "missing for this price" not in page


def test_home_page_shows_the_credits_available(client_a, org):
    grant_credits(organization=org, credits=42, reason="test")

    page = text(client_a.get(reverse("dashboard:home")))

    assert re.search(r'id="home-credits" href="[^"]+" data-available="42"', page)
    assert "Credits available" in page


@override_settings(STRIPE_SECRET_KEY="sk_test_price_box")
def test_the_warning_in_chinese(client_a, org, product):
    grant_credits(organization=org, credits=30, reason="test")
    client_a.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("dashboard:home")})

    page = text(wizard_price(client_a, product))

    assert "余额：可用 30 点数" in page
    assert "按此价格还差 150 点数。请在提交前购买点数包" in page
    assert ">购买点数</a>" in page
