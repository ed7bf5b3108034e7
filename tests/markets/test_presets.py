"""Market presets as data: the 17 markets our markets, Babel prices and formats."""

from decimal import Decimal

import pytest
from babel import Locale

from generation.pipeline.platforms import PLATFORMS
from generation.presets import (
    MARKETS,
    MARKETS_BY_SLUG,
    PLATFORM_ASPECTS,
    date_format,
    format_price,
    market_default_aspects,
    market_platform_defaults,
    number_format,
)

SLUGS = ("us", "gb", "de", "fr", "es", "it", "nl", "pl", "jp", "kr", "br", "mx", "sa", "ae", "id", "th", "vn")


def test_all_design_markets_are_present_with_their_data():
    assert {m.slug for m in MARKETS} == set(SLUGS)
    for m in MARKETS:
        locale = Locale.parse(m.locale)  # a real CLDR locale
        assert locale.language == m.language
        assert len(m.currency) == 3 and m.currency in locale.currencies
        assert m.direction == ("rtl" if m.slug in ("sa", "ae") else "ltr")
        assert locale.character_order == ("right-to-left" if m.direction == "rtl" else "left-to-right")
        assert m.platforms and set(m.platforms) <= set(PLATFORMS)
        assert m.scenes and m.looks and m.call_to_action and m.note


def test_platform_defaults_carry_aspects_and_lengths():
    jp = MARKETS_BY_SLUG["jp"]
    defaults = market_platform_defaults(jp)
    assert [d.platform for d in defaults] == list(jp.platforms)
    for d in defaults:
        assert d.aspects == PLATFORM_ASPECTS[d.platform] and d.seconds
        assert all(PLATFORMS[d.platform].duration_min <= s <= PLATFORMS[d.platform].duration_max for s in d.seconds)
    assert market_default_aspects(jp) == ["9:16", "16:9", "1:1", "4:5"]


@pytest.mark.parametrize(
    ("market", "amount", "expected"),
    [
        ("de", "19.99", "19,99\xa0€"),
        ("fr", "19.99", "19,99\xa0€"),
        ("jp", "2000", "￥2,000"),  # the yen has no minor unit: no decimals
        ("jp", "1999.6", "￥2,000"),
        ("us", "19.99", "$19.99"),
        ("gb", "1234.5", "£1,234.50"),
        ("kr", "25000", "₩25,000"),
        # Gulf storefronts show Latin digits (the presets' documented choice), with CLDR's right-to-left marks.
        ("sa", "19.99", "\u200f19.99\xa0ر.س.\u200f"),
    ],
)
def test_prices_are_formatted_by_babel_for_the_market(market, amount, expected):
    assert format_price(Decimal(amount), market) == expected


def test_arabic_digits_are_one_setting_away():
    assert format_price("19.99", "sa", numbering_system="arab") == "\u200f١٩٫٩٩\xa0ر.س.\u200f"


def test_number_and_date_formats_follow_the_locale():
    assert number_format("de")["decimal"] == "," and number_format("de")["group"] == "."
    assert number_format("us")["decimal"] == "."
    assert date_format("de") == "dd.MM.yy"
    assert date_format("us") == "M/d/yy"
