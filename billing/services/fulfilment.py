"""Fulfilment from verified Stripe events: a pack's or a plan's credits once per Stripe object (a replayed
webhook adds nothing), failed payments, and refunds.

Refund rule: a refund takes back the refunded share of the pack's credits, but never more than is still available
(balance − reserved): credits already spent on delivered videos, or reserved for running jobs, stay spent. What
could not be taken back is recorded on the payment (`credits_not_recovered`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import gateway, names
from billing.errors import BillingError
from billing.models import Invoice, Payment, StripeCustomer, StripeEvent, Subscription
from shop_video.core import audit

from .checkout import _require_payments, plans
from .ledger import AUDIT_CREDITS_REFUNDED, Kind, _entry, _locked_account, _save, grant_credits
from .subscriptions import _ts, sync_subscription

logger = logging.getLogger(__name__)


def refund_payment(*, payment: Payment, amount: int | None = None, user=None) -> Payment:
    """Support refunds (part of) a pack through Stripe; credits are taken back by the refund rule."""
    _require_payments()
    if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
        raise BillingError(_("Only a paid payment can be refunded."), "not_refundable")
    refunded_total = gateway.refund(payment_intent_id=payment.payment_intent_id, amount=amount)
    return apply_refund(payment_intent_id=payment.payment_intent_id, amount_refunded=refunded_total, user=user)


def fulfil_payment(*, payment_intent_id: str, amount_received: int, currency: str) -> Payment | None:
    """payment_intent.succeeded: the pack's credits, once per PaymentIntent."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(payment_intent_id=payment_intent_id).first()
        if payment is None:
            logger.warning("payment_intent.succeeded for unknown PaymentIntent %s", payment_intent_id)
            return None
        if payment.status != Payment.Status.PENDING and payment.status != Payment.Status.FAILED:
            return payment  # already fulfilled (a replay or a duplicate delivery)
        if amount_received < payment.amount or currency.lower() != payment.currency.lower():
            raise BillingError(f"payment {payment_intent_id} received {amount_received} {currency}", "amount_mismatch")
        grant_credits(
            organization=payment.organization,
            credits=payment.credits,
            kind=Kind.PURCHASE,
            reason=names.PACK % {"pack": payment.pack},
            external_ref=payment_intent_id,
        )
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "updated_at"])
    return payment


def payment_failed(*, payment_intent_id: str) -> None:
    Payment.objects.filter(payment_intent_id=payment_intent_id, status=Payment.Status.PENDING).update(
        status=Payment.Status.FAILED, updated_at=timezone.now()
    )


def apply_refund(*, payment_intent_id: str, amount_refunded: int, user=None) -> Payment | None:
    """`amount_refunded` is the charge's cumulative refunded amount, so replays and out-of-order events are no-ops
    (the recorded total only grows). Takes back at most what is available (the refund rule above)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(payment_intent_id=payment_intent_id).first()
        if payment is None or payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
            logger.warning("refund for unknown or unpaid PaymentIntent %s", payment_intent_id)
            return payment
        amount_refunded = min(int(amount_refunded), payment.amount)
        if amount_refunded <= payment.amount_refunded:
            return payment
        target = payment.credits * amount_refunded // payment.amount  # whole credits, rounded down
        due = target - payment.credits_refunded - payment.credits_not_recovered
        account = _locked_account(payment.organization_id)
        take = max(0, min(due, account.available))
        if take:
            entry = _entry(
                account,
                Kind.REFUND,
                take,
                -take,
                0,
                reason=names.PACK_REFUND % {"pack": payment.pack},
                external_ref=f"{payment_intent_id}:{amount_refunded}",
            )
            _save(account, [entry])
        payment.amount_refunded = amount_refunded
        payment.credits_refunded += take
        payment.credits_not_recovered += max(0, due - take)
        if amount_refunded >= payment.amount:
            payment.status = Payment.Status.REFUNDED
        payment.save()
        # Audited even when nothing could be taken back: the money went back all the same.
        audit.record(
            AUDIT_CREDITS_REFUNDED,
            actor=user if getattr(user, "is_authenticated", False) else None,
            organization=payment.organization,
            target=payment,
            metadata={
                "payment_intent": payment_intent_id,
                "amount_refunded": amount_refunded,
                "currency": payment.currency,
                "credits_taken_back": take,
                "credits_not_recovered": max(0, due - take),
                "balance_after": account.balance,
            },
        )
    return payment


def fulfil_invoice(invoice: dict[str, Any]) -> Invoice | None:
    """invoice.payment_succeeded of a subscription: the plan's credits, once per invoice."""
    invoice_id = invoice.get("id") or ""
    sub_id = invoice.get("subscription") or ""
    if isinstance(sub_id, dict):
        sub_id = sub_id.get("id", "")
    customer_id = invoice.get("customer") or ""
    if isinstance(customer_id, dict):
        customer_id = customer_id.get("id", "")
    customer = StripeCustomer.objects.filter(customer_id=customer_id).select_related("organization").first()
    if not invoice_id or customer is None:
        logger.warning("invoice %s for unknown customer %s", invoice_id, customer_id)
        return None
    plan_slug = ""
    sub = (
        Subscription.objects.filter(subscription_id=sub_id, organization=customer.organization).first()
        if sub_id
        else None
    )
    if sub is not None:
        plan_slug = sub.plan
    else:  # the subscription row may not exist yet (out of order): the plan's metadata names it
        for line in (invoice.get("lines") or {}).get("data") or []:
            plan_slug = ((line.get("plan") or {}).get("metadata") or {}).get("shopvideo_plan") or plan_slug
    offers = {o.slug: o for o in plans()}
    if plan_slug not in offers:
        logger.warning("invoice %s has no known plan (%r)", invoice_id, plan_slug)
        return None
    offer = offers[plan_slug]
    with transaction.atomic():
        row, created = Invoice.objects.get_or_create(
            invoice_id=invoice_id,
            defaults={
                "organization": customer.organization,
                "subscription_id": sub_id,
                "plan": plan_slug,
                "credits": offer.credits,
                "amount_paid": int(invoice.get("amount_paid") or 0),
                "currency": invoice.get("currency") or "",
                "hosted_invoice_url": invoice.get("hosted_invoice_url") or "",
                "period_start": _ts(invoice.get("period_start")),
                "period_end": _ts(invoice.get("period_end")),
            },
        )
        if created:
            grant_credits(
                organization=customer.organization,
                credits=offer.credits,
                kind=Kind.PURCHASE,
                reason=names.PLAN % {"plan": plan_slug},
                external_ref=invoice_id,
            )
    return row


def record_event(event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store a verified event once (unique id); returns (row, created). A replay returns created=False."""
    obj, created = StripeEvent.objects.get_or_create(
        event_id=event["id"], defaults={"type": event.get("type", ""), "payload": event}
    )
    return obj, created


def process_event(event_pk: int) -> None:
    """Fulfil one stored event; idempotent (fulfilment is keyed by the Stripe object)."""
    with transaction.atomic():
        row = StripeEvent.objects.select_for_update().filter(pk=event_pk, processed_at__isnull=True).first()
        if row is None:
            return
        obj = (row.payload.get("data") or {}).get("object") or {}
        try:
            with transaction.atomic():
                _dispatch(row.type, obj)
        except Exception as exc:
            logger.exception("stripe event %s (%s) could not be processed", row.event_id, row.type)
            row.error = f"{type(exc).__name__}: {exc}"[:2000]
            row.save(update_fields=["error"])
            return
        row.processed_at = timezone.now()
        row.error = ""
        row.save(update_fields=["processed_at", "error"])


def _dispatch(event_type: str, obj: dict[str, Any]) -> None:
    if event_type == "payment_intent.succeeded":
        fulfil_payment(
            payment_intent_id=obj["id"],
            amount_received=int(obj.get("amount_received") or obj.get("amount") or 0),
            currency=obj.get("currency") or "",
        )
    elif event_type == "payment_intent.payment_failed":
        payment_failed(payment_intent_id=obj["id"])
    elif event_type == "invoice.payment_succeeded":
        fulfil_invoice(obj)
    elif event_type == "charge.refunded":
        pi = obj.get("payment_intent")
        if isinstance(pi, dict):
            pi = pi.get("id")
        if pi:
            apply_refund(payment_intent_id=pi, amount_refunded=int(obj.get("amount_refunded") or 0))
    elif event_type in (
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ):
        sync_subscription(obj)


def process_pending_events(limit: int = 100) -> int:
    """Sweep for events whose after-commit processing did not run (a crash between commit and fulfilment)."""
    ids = list(
        StripeEvent.objects.filter(processed_at__isnull=True).order_by("id").values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        process_event(pk)
    return len(ids)
