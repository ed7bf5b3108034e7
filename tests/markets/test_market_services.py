"""Organizations edit their own looks; localized titles and prices feed the captions (database, real services)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from generation.market_services import caption_inputs, looks_for, save_look, set_localized_title
from generation.models import MarketPreset, ModelLook
from generation.pipeline.captions import caption_content
from generation.presets import MARKETS, MARKETS_BY_SLUG
from tests.factories import OrganizationFactory, ProductFactory, market

pytestmark = pytest.mark.django_db


def test_the_database_holds_every_market_with_its_data():
    market("us")
    rows = {m.slug: m for m in MarketPreset.objects.all()}
    for preset in MARKETS:
        row = rows[preset.slug]
        assert (row.locale, row.currency, row.direction) == (preset.locale, preset.currency, preset.direction)
        assert row.platforms == list(preset.platforms) and row.review_note


def test_an_organization_adds_and_edits_its_own_looks():
    org, other = OrganizationFactory(), OrganizationFactory()
    de = market("de")
    look = save_look(organization=org, market=de, name="Outdoor 40s", descriptors="adult in their forties, hiking")
    assert look.slug == "outdoor-40s" and look.organization == org
    look = save_look(organization=org, market=de, name="Outdoor 40s", descriptors="rain jacket", look=look)
    assert ModelLook.objects.get(pk=look.pk).descriptors == "rain jacket"
    mine = looks_for(organization=org, market=de)
    assert look in mine and all(x.organization_id in (None, org.pk) for x in mine)
    assert look not in looks_for(organization=other, market=de)
    with pytest.raises(ValidationError):
        save_look(organization=other, market=de, name="x", descriptors="y", look=look)  # not theirs
    with pytest.raises(ValidationError):
        save_look(organization=org, market=de, name="Outdoor 40s", descriptors="again")  # duplicate slug
    builtin = ModelLook.objects.filter(market=de, organization__isnull=True).first()
    with pytest.raises(ValidationError):
        save_look(organization=org, market=de, name="x", descriptors="y", look=builtin)


def test_localized_titles_and_price_reach_the_caption():
    product = ProductFactory(title="Leather backpack", price=Decimal("89.90"), currency="EUR")
    set_localized_title(product=product, language="de", title="Lederrucksack", cta="Jetzt kaufen")
    jp, de = market("jp"), market("de")
    inputs = caption_inputs(product=product, market=de)
    assert inputs["caption_title"] == "Lederrucksack" and inputs["cta"] == "Jetzt kaufen"
    content = caption_content(
        MARKETS_BY_SLUG["de"],
        title=inputs["product_title"],
        localized_titles={"de": inputs["caption_title"]},
        price=inputs["price"],
        currency=inputs["currency"],
        cta=inputs["cta"],
    )
    assert (content.title, content.price) == ("Lederrucksack", "89,90\xa0€")
    # No Japanese title: the original, never a translation.
    assert caption_inputs(product=product, market=jp)["caption_title"] == ""
    set_localized_title(product=product, language="de", title="")
    assert caption_inputs(product=product, market=de)["caption_title"] == ""
    with pytest.raises(ValidationError):
        set_localized_title(product=product, language="xx", title="?")
