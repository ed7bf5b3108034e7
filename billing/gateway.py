"""The one module that talks to Stripe. Everything else calls these small functions with plain values.

Only calls that localstripe also supports are used (Customers, PaymentMethods, SetupIntents, PaymentIntents,
Products + Plans, Subscriptions with `items=[{"plan": …}]`, Refunds, signed webhooks), so the tests exercise this code
for real. Stripe's own errors stay in here: a declined card comes out as `CardDeclined`, any other refusal as
`GatewayError`, both with a message fit for the merchant.
Keys come from settings (the environment); `STRIPE_API_BASE` points the SDK at localstripe in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings


class PaymentsDisabled(RuntimeError):
    """No Stripe secret key is configured: the free-credits demo mode."""


class GatewayError(RuntimeError):
    """Stripe refused a call (bad state, unknown object, network). `message` is safe to show."""

    def __init__(self, message: str, code: str = "stripe_error"):
        super().__init__(message)
        self.message = message
        self.code = code


class CardDeclined(GatewayError):
    """The card was declined (Stripe's own message, e.g. "Your card was declined.")."""


def enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _key() -> str:
    if not enabled():
        raise PaymentsDisabled("STRIPE_SECRET_KEY is not set")
    # The base is process-wide in the SDK; it is read from settings on every call so tests can point it elsewhere.
    stripe.api_base = settings.STRIPE_API_BASE or "https://api.stripe.com"
    stripe.max_network_retries = 0 if settings.STRIPE_API_BASE else 2
    return settings.STRIPE_SECRET_KEY


def create_customer(*, name: str, organization_id: int) -> str:
    customer = stripe.Customer.create(api_key=_key(), name=name, metadata={"organization_id": str(organization_id)})
    return customer.id


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str


def create_payment_intent(*, customer_id: str, amount: int, currency: str, metadata: dict[str, str]) -> Intent:
    pi = stripe.PaymentIntent.create(
        api_key=_key(),
        amount=amount,
        currency=currency,
        customer=customer_id,
        metadata=metadata,
    )
    return Intent(pi.id, pi.client_secret, pi.status)


def retrieve_payment_intent(payment_intent_id: str) -> Intent:
    try:
        pi = stripe.PaymentIntent.retrieve(payment_intent_id, api_key=_key())
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc
    return Intent(pi.id, pi.client_secret, pi.status)


def _refusal(exc: stripe.StripeError) -> GatewayError:
    message = getattr(exc, "user_message", None) or str(exc) or "Stripe refused the request."
    if isinstance(exc, stripe.CardError):
        return CardDeclined(message, getattr(exc, "code", None) or "card_declined")
    return GatewayError(message, getattr(exc, "code", None) or "stripe_error")


def confirm_payment_intent(*, payment_intent_id: str, payment_method_id: str) -> Intent:
    """Charge a saved card on the server. Two calls because localstripe has no `payment_method` on confirm; the
    result may be `requires_action` (3-D Secure), which Stripe.js finishes in the browser."""
    key = _key()
    try:
        stripe.PaymentIntent.modify(payment_intent_id, payment_method=payment_method_id, api_key=key)
        pi = stripe.PaymentIntent.confirm(payment_intent_id, api_key=key)
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc
    return Intent(pi.id, pi.client_secret, pi.status)


def create_setup_intent(*, customer_id: str, metadata: dict[str, str]) -> Intent:
    """Stripe.js confirms it with the Card Element (`confirmCardSetup`), which turns the card into a PaymentMethod
    without the card number ever reaching our server."""
    si = stripe.SetupIntent.create(api_key=_key(), customer=customer_id, usage="off_session", metadata=metadata)
    return Intent(si.id, si.client_secret, si.status)


@dataclass(frozen=True)
class SetupResult:
    id: str
    status: str
    customer_id: str
    payment_method_id: str


def retrieve_setup_intent(setup_intent_id: str) -> SetupResult:
    try:
        si = stripe.SetupIntent.retrieve(setup_intent_id, api_key=_key())
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc
    return SetupResult(si.id, si.status, _id_of(si.customer), _id_of(si.payment_method))


def _id_of(value: Any) -> str:
    """An expandable field: an id, an expanded object, or None."""
    if value is None or isinstance(value, str):
        return value or ""
    return value.id


def plan_id(slug: str, amount: int, currency: str) -> str:
    """Deterministic, so a changed price is a new Stripe plan and an old subscription keeps its own."""
    return f"shopvideo-{slug}-{amount}-{currency}"


def ensure_plan(*, slug: str, name: str, amount: int, currency: str) -> str:
    key = _key()
    pid = plan_id(slug, amount, currency)
    try:
        return stripe.Plan.retrieve(pid, api_key=key).id
    except stripe.InvalidRequestError:
        product = stripe.Product.create(api_key=key, name=name, metadata={"shopvideo_plan": slug})
        plan = stripe.Plan.create(
            api_key=key,
            id=pid,
            amount=amount,
            currency=currency,
            interval="month",
            product=product.id,
            nickname=slug,
            metadata={"shopvideo_plan": slug},
        )
        return plan.id


def attach_card(*, customer_id: str, payment_method_id: str) -> None:
    """Stripe attaches a SetupIntent's card to its customer itself; localstripe does not, so attach it here (a
    no-op for a card already attached to this customer)."""
    try:
        stripe.PaymentMethod.attach(payment_method_id, customer=customer_id, api_key=_key())
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc


def set_default_card(*, customer_id: str, payment_method_id: str) -> None:
    """Subscriptions charge the customer's `invoice_settings.default_payment_method` (localstripe has no
    `default_payment_method` on the subscription itself)."""
    attach_card(customer_id=customer_id, payment_method_id=payment_method_id)
    try:
        stripe.Customer.modify(
            customer_id, invoice_settings={"default_payment_method": payment_method_id}, api_key=_key()
        )
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc


@dataclass(frozen=True)
class SubscriptionState:
    id: str
    status: str
    current_period_start: int | None
    current_period_end: int | None


def subscription_state(sub: Any) -> SubscriptionState:
    """From a Stripe subscription (object or event dict). Newer API versions moved the current period onto the
    subscription items; older ones (and localstripe) keep it on the subscription."""
    data = sub.to_dict() if hasattr(sub, "to_dict") else dict(sub)
    start, end = data.get("current_period_start"), data.get("current_period_end")
    if not end:
        items = (data.get("items") or {}).get("data") or []
        if items:
            start, end = items[0].get("current_period_start"), items[0].get("current_period_end")
    return SubscriptionState(
        data.get("id", ""), data.get("status", ""), int(start) if start else None, int(end) if end else None
    )


def create_subscription(*, customer_id: str, plan_id: str, metadata: dict[str, str]) -> SubscriptionState:
    try:
        sub = stripe.Subscription.create(
            api_key=_key(), customer=customer_id, items=[{"plan": plan_id}], metadata=metadata
        )
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc
    return subscription_state(sub)


def cancel_subscription(subscription_id: str) -> str:
    try:
        return stripe.Subscription.cancel(subscription_id, api_key=_key()).status
    except stripe.StripeError as exc:
        raise _refusal(exc) from exc


def refund(*, payment_intent_id: str, amount: int | None = None) -> int:
    """Refund (part of) a payment; returns the charge's total refunded amount so far (cumulative)."""
    key = _key()
    params: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    stripe.Refund.create(api_key=key, **params)
    pi = stripe.PaymentIntent.retrieve(payment_intent_id, api_key=key)
    charge_id = pi.latest_charge if isinstance(pi.latest_charge, str) else pi.latest_charge.id
    return int(stripe.Charge.retrieve(charge_id, api_key=key).amount_refunded)


def verify_event(payload: bytes, signature: str) -> dict[str, Any]:
    """The event as a dict, or stripe.SignatureVerificationError / ValueError. Checked before anything parses it."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise stripe.SignatureVerificationError("no webhook secret configured", signature)
    event = stripe.Webhook.construct_event(payload, signature, secret)
    return event.to_dict()
