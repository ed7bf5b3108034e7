"""Monthly plans: subscribing with a saved card, canceling, and following Stripe's subscription events."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import gateway, selectors
from billing.errors import BillingError
from billing.models import StripeCustomer, Subscription

from .checkout import _card_from_setup, _declined, _offer, _refused, _require_payments, ensure_customer, plans

logger = logging.getLogger(__name__)


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def subscribe(*, organization, plan: str, payment_method_id: str, setup_intent_id: str = "") -> Subscription:
    """A monthly plan: the card becomes the customer's default (localstripe, like Stripe's invoices, charges the
    customer's `invoice_settings.default_payment_method`), then a Subscription on the plan. Its credits arrive with
    each `invoice.payment_succeeded`. A first payment that fails leaves nothing behind: the incomplete subscription
    is canceled at Stripe and no row is kept."""
    _require_payments()
    offer = _offer(plans(), plan, "unknown_plan")
    customer_id = ensure_customer(organization)
    plan_id = gateway.ensure_plan(slug=offer.slug, name=offer.slug, amount=offer.amount, currency=offer.currency)
    try:
        gateway.set_default_card(customer_id=customer_id, payment_method_id=payment_method_id)
        state = gateway.create_subscription(
            customer_id=customer_id,
            plan_id=plan_id,
            metadata={"organization_id": str(organization.pk), "plan": offer.slug},
        )
    except gateway.CardDeclined as exc:
        raise _declined(exc) from exc
    except gateway.GatewayError as exc:
        raise _refused(exc) from exc
    if state.status not in Subscription.LIVE_STATUSES:  # "incomplete": the first invoice was not paid
        logger.info("subscription %s for org %s came back %s; canceled", state.id, organization.pk, state.status)
        try:
            gateway.cancel_subscription(state.id)
        except gateway.GatewayError:
            logger.exception("could not cancel incomplete subscription %s (Stripe expires it in 23 h)", state.id)
        raise BillingError(
            _("Your card was declined for the first month of the plan. Nothing was charged; try another card."),
            "card_declined",
        )
    sub, _created = Subscription.objects.update_or_create(
        subscription_id=state.id,
        defaults={
            "organization": organization,
            "plan": offer.slug,
            "status": state.status,
            "current_period_start": _ts(state.current_period_start),
            "current_period_end": _ts(state.current_period_end),
            "setup_intent_id": setup_intent_id,
        },
    )
    return sub


def subscribe_with_card(*, organization, plan: str, setup_intent_id: str) -> Subscription:
    """The subscribe page: the card the merchant entered (a SetupIntent confirmed by Stripe.js) starts the plan.

    One at a time per organization (the Stripe customer row is locked across the Stripe calls), so a double submit
    waits for the first and then finds its subscription instead of creating a second one."""
    _require_payments()
    _offer(plans(), plan, "unknown_plan")
    ensure_customer(organization)
    with transaction.atomic():
        StripeCustomer.objects.select_for_update().get(organization=organization)
        live = selectors.live_subscriptions(organization).order_by("-id").first()
        if live is not None:
            if setup_intent_id and live.setup_intent_id == setup_intent_id:
                return live  # the same form submitted twice
            raise BillingError(
                _("This shop already has the %(plan)s plan. Cancel it before choosing another one.")
                % {"plan": live.plan},
                "already_subscribed",
            )
        card = _card_from_setup(organization, setup_intent_id)
        return subscribe(organization=organization, plan=plan, payment_method_id=card, setup_intent_id=setup_intent_id)


def cancel_subscription(*, subscription: Subscription) -> Subscription:
    _require_payments()
    subscription.status = gateway.cancel_subscription(subscription.subscription_id)
    subscription.save(update_fields=["status", "updated_at"])
    return subscription


def sync_subscription(obj: dict[str, Any]) -> None:
    """Status and current period from a subscription event. Events may come late or out of order: a canceled
    subscription is never revived by an older event, and the period only moves forward."""
    state = gateway.subscription_state(obj)
    if not state.id:
        return
    now = timezone.now()
    rows = Subscription.objects.filter(subscription_id=state.id)
    if state.status:
        (rows if state.status == "canceled" else rows.exclude(status="canceled")).update(
            status=state.status, updated_at=now
        )
    if state.current_period_end:
        end = _ts(state.current_period_end)
        rows.filter(Q(current_period_end__isnull=True) | Q(current_period_end__lt=end)).update(
            current_period_start=_ts(state.current_period_start), current_period_end=end, updated_at=now
        )
