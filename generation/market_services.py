"""Services for the market side of a catalogue: an organization's own model looks and localized product titles."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from generation.models import MarketPreset, ModelLook, Product, ProductLocalization
from generation.presets import MARKETS_BY_SLUG, format_price
from shop_video.merchants.models import Organization


@transaction.atomic
def save_look(
    *,
    organization: Organization,
    market: MarketPreset,
    name: str,
    descriptors: str,
    slug: str = "",
    review_note: str = "",
    look: ModelLook | None = None,
) -> ModelLook:
    """Add a look for the organization in a market, or edit one of its own (built-in looks are not theirs)."""
    if look is not None and look.organization_id != organization.pk:
        raise ValidationError(_("Only your organization's own looks can be edited."))
    slug = slugify(slug or name)[:60]
    if not slug or not descriptors.strip():
        raise ValidationError(_("A look needs a name and descriptors."))
    clash = ModelLook.objects.filter(market=market, organization=organization, slug=slug)
    if look is not None:
        clash = clash.exclude(pk=look.pk)
    if clash.exists():
        raise ValidationError(_("You already have a look %(slug)s in this market.") % {"slug": slug})
    look = look or ModelLook(organization=organization, market=market)
    look.slug, look.name, look.descriptors, look.review_note = slug, name.strip(), descriptors.strip(), review_note
    look.save()
    return look


def looks_for(*, organization: Organization, market: MarketPreset) -> list[ModelLook]:
    """The looks an organization can choose in a market: the built-in ones and its own."""
    return list(
        ModelLook.objects.filter(market=market, organization__in=[organization])
        | ModelLook.objects.filter(market=market, organization__isnull=True)
    )


@transaction.atomic
def set_localized_title(*, product: Product, language: str, title: str, cta: str = "") -> ProductLocalization | None:
    """The merchant's title for a caption language (`title_de`, `title_ja` columns, the dashboard, the API).
    An empty title removes it, so captions fall back to the original title."""
    language = language.strip().replace("_", "-").lower()
    known = {m.caption_language for m in MARKETS_BY_SLUG.values()}
    if language.split("-")[0] not in known:
        raise ValidationError(_("Unknown caption language %(language)s.") % {"language": language})
    if not title.strip():
        ProductLocalization.objects.filter(product=product, language=language).delete()
        return None
    row, _created = ProductLocalization.objects.update_or_create(
        product=product, language=language, defaults={"title": title.strip()[:200], "cta": cta.strip()[:120]}
    )
    return row


def caption_inputs(*, product: Product, market: MarketPreset) -> dict:
    """VariantSpec caption fields for a product in a market: its localized title and CTA, its price."""
    language = market.caption_language
    local = {row.language: row for row in product.localizations.all()}
    row = local.get(language) or local.get(language.split("-")[0])
    return {
        "product_title": product.title,
        "caption_title": row.title if row else "",
        "cta": (row.cta if row and row.cta else market.cta) or None,
        "price": str(product.price) if product.price is not None else None,
        "currency": product.currency or None,
    }


def caption_prices(product: Product) -> list[tuple[str, str]]:
    """(market name, the price as that market's captions write it), for every built-in market, those that trade in
    the product's currency first; [] without a price."""
    if product.price is None:
        return []
    ordered = sorted(MARKETS_BY_SLUG.values(), key=lambda m: m.currency != product.currency)
    return [(m.name, format_price(product.price, m, product.currency or None)) for m in ordered]


@transaction.atomic
def delete_look(*, organization: Organization, look: ModelLook) -> None:
    """Remove one of the organization's own looks (a built-in one it replaced comes back). Refused while a queued
    or running job still needs it: that job would otherwise lose its model without anyone noticing."""
    from generation.models import Job

    if look.organization_id != organization.pk:
        raise ValidationError(_("Only your organization's own looks can be removed."))
    if Job.objects.filter(look=look, state__in=Job.ACTIVE_STATES).exists():
        raise ValidationError(_("Videos with this look are still being made; remove it when they are done."))
    look.delete()


def caption_languages() -> list[str]:
    """The caption languages of the built-in markets, in a stable order (the first market's first)."""
    return list(dict.fromkeys(m.caption_language for m in MARKETS_BY_SLUG.values()))
