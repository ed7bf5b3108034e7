"""The one module that talks to Stripe. Everything else calls these small functions with plain values.

Only calls that localstripe also supports are used (Customers, PaymentMethods, PaymentIntents, Products + Plans,
Subscriptions with `items=[{"plan": …}]`, Refunds, signed webhooks), so the tests exercise this code for real.
Keys come from settings (the environment); `STRIPE_API_BASE` points the SDK at localstripe in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings


class PaymentsDisabled(RuntimeError):
    """No Stripe secret key is configured: the free-credits demo mode."""


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
    pi = stripe.PaymentIntent.retrieve(payment_intent_id, api_key=_key())
    return Intent(pi.id, pi.client_secret, pi.status)


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


def set_default_card(*, customer_id: str, payment_method_id: str) -> None:
    key = _key()
    stripe.PaymentMethod.attach(payment_method_id, customer=customer_id, api_key=key)
    stripe.Customer.modify(customer_id, invoice_settings={"default_payment_method": payment_method_id}, api_key=key)


def create_subscription(*, customer_id: str, plan_id: str, metadata: dict[str, str]) -> tuple[str, str]:
    sub = stripe.Subscription.create(api_key=_key(), customer=customer_id, items=[{"plan": plan_id}], metadata=metadata)
    return sub.id, sub.status


def cancel_subscription(subscription_id: str) -> str:
    return stripe.Subscription.cancel(subscription_id, api_key=_key()).status


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
