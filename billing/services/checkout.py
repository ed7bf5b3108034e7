"""Buying credits: the offers (packs, plans), the Stripe customer, a pack's PaymentIntent and paying it with a
card saved through a SetupIntent. Credits arrive only from the verified webhook (billing.services.fulfilment)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from billing import gateway, names
from billing.errors import BillingError
from billing.models import Payment, StripeCustomer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Offer:
    slug: str
    credits: int
    amount: int  # smallest currency unit
    currency: str

    @property
    def name(self) -> str:
        return names.offer_name(self.slug)

    @property
    def price(self) -> str:
        return f"{self.amount / 100:.2f} {self.currency.upper()}"


def credit_packs() -> list[Offer]:
    cur = settings.SHOPVIDEO_CURRENCY
    return [Offer(s, int(p["credits"]), int(p["amount"]), cur) for s, p in settings.SHOPVIDEO_CREDIT_PACKS.items()]


def plans() -> list[Offer]:
    cur = settings.SHOPVIDEO_CURRENCY
    return [Offer(s, int(p["credits"]), int(p["amount"]), cur) for s, p in settings.SHOPVIDEO_PLANS.items()]


def _offer(offers: list[Offer], slug: str, code: str) -> Offer:
    for offer in offers:
        if offer.slug == slug:
            return offer
    raise BillingError(_("Unknown offer %(slug)s.") % {"slug": slug}, code)


def _require_payments() -> None:
    if not gateway.enabled():
        raise BillingError(_("Payments are disabled on this installation (demo mode)."), "payments_disabled")


def ensure_customer(organization) -> str:
    _require_payments()
    found = StripeCustomer.objects.filter(organization=organization).values_list("customer_id", flat=True).first()
    if found:
        return found
    customer_id = gateway.create_customer(name=organization.name, organization_id=organization.pk)
    obj, _created = StripeCustomer.objects.get_or_create(
        organization=organization, defaults={"customer_id": customer_id}
    )
    return obj.customer_id


def start_pack_purchase(*, organization, pack: str, user=None) -> tuple[Payment, str]:
    """Create the PaymentIntent for a credit pack; returns the Payment and the client secret for Stripe.js."""
    _require_payments()
    offer = _offer(credit_packs(), pack, "unknown_pack")
    customer_id = ensure_customer(organization)
    intent = gateway.create_payment_intent(
        customer_id=customer_id,
        amount=offer.amount,
        currency=offer.currency,
        metadata={"organization_id": str(organization.pk), "pack": offer.slug, "credits": str(offer.credits)},
    )
    payment = Payment.objects.create(
        organization=organization,
        payment_intent_id=intent.id,
        pack=offer.slug,
        credits=offer.credits,
        amount=offer.amount,
        currency=offer.currency,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return payment, intent.client_secret


# --- cards: entered in Stripe.js's Card Element, saved with a SetupIntent, charged from the server ----------------
#
# Both the pack and the plan pages save the card with `stripe.confirmCardSetup` first: that is the one Stripe.js
# call that sends the Card Element's card to Stripe both in Stripe.js and in localstripe's fake (whose
# `confirmCardPayment` ignores the card), so a browser test pays for real. The server then charges that card.


def _declined(exc: gateway.GatewayError) -> BillingError:
    return BillingError(
        _("Your card was declined (%(reason)s). Nothing was charged; try another card.") % {"reason": exc.message},
        "card_declined",
    )


def _refused(exc: gateway.GatewayError) -> BillingError:
    return BillingError(
        _("The payment could not be completed (%(reason)s). Nothing was charged.") % {"reason": exc.message},
        "payment_error",
    )


def start_card_setup(*, organization, purpose: str) -> str:
    """A SetupIntent on the organization's Stripe customer; returns the client secret for `confirmCardSetup`."""
    _require_payments()
    customer_id = ensure_customer(organization)
    try:
        intent = gateway.create_setup_intent(
            customer_id=customer_id, metadata={"organization_id": str(organization.pk), "purpose": purpose}
        )
    except gateway.GatewayError as exc:
        raise _refused(exc) from exc
    return intent.client_secret


def _card_from_setup(organization, setup_intent_id: str) -> str:
    """The card saved by a SetupIntent that Stripe.js confirmed, only if that SetupIntent belongs to this
    organization's customer (a posted id is never trusted on its own)."""
    unreadable = BillingError(_("The card could not be read. Enter it again."), "invalid_card_setup")
    if not isinstance(setup_intent_id, str) or not setup_intent_id.startswith("seti_") or len(setup_intent_id) > 120:
        raise unreadable
    customer_id = ensure_customer(organization)
    try:
        setup = gateway.retrieve_setup_intent(setup_intent_id)
    except gateway.GatewayError as exc:
        raise unreadable from exc
    if setup.customer_id != customer_id or setup.status != "succeeded" or not setup.payment_method_id:
        raise unreadable
    return setup.payment_method_id


@dataclass(frozen=True)
class CardPayment:
    """What the pay page does next: `succeeded`/`processing` → the receipt; `requires_action` → Stripe.js finishes
    3-D Secure with the client secret (`confirmCardPayment`)."""

    status: str
    client_secret: str = ""


def pay_with_card(*, payment: Payment, setup_intent_id: str) -> CardPayment:
    """Charge a pack's PaymentIntent with the card just saved. The credits still come only from the signed
    `payment_intent.succeeded` webhook (fulfil_payment), so a charge is credited once however it was confirmed.

    The payment row stays locked across the Stripe calls: a double submit waits, then sees the intent already
    confirmed and charges nothing twice."""
    _require_payments()
    declined: gateway.GatewayError | None = None
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("organization").get(pk=payment.pk)
        if locked.status not in (Payment.Status.PENDING, Payment.Status.FAILED):
            return CardPayment("succeeded")
        try:
            intent = gateway.retrieve_payment_intent(locked.payment_intent_id)
        except gateway.GatewayError as exc:
            raise _refused(exc) from exc
        if intent.status in ("succeeded", "processing", "requires_capture", "requires_action"):
            return CardPayment(intent.status, intent.client_secret)
        card = _card_from_setup(locked.organization, setup_intent_id)
        try:
            gateway.attach_card(customer_id=ensure_customer(locked.organization), payment_method_id=card)
            intent = gateway.confirm_payment_intent(payment_intent_id=locked.payment_intent_id, payment_method_id=card)
        except gateway.CardDeclined as exc:
            declined = exc
            locked.status = Payment.Status.FAILED  # the payment_failed webhook says the same, later
            locked.save(update_fields=["status", "updated_at"])
        except gateway.GatewayError as exc:
            raise _refused(exc) from exc
    if declined is not None:
        raise _declined(declined)
    return CardPayment(intent.status, intent.client_secret)
