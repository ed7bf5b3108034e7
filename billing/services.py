"""Everything that moves credits or money (the ledger's only writer).

Rules (shared/DESIGN.md § Money):
- every movement locks the organization's `CreditAccount` row (`SELECT … FOR UPDATE`), updates its running
  totals and appends one `LedgerEntry` in the same transaction; CHECK constraints keep `0 <= reserved <= balance`;
- a job is reserved on submit, captured when it succeeds, released when it fails (QA included), is canceled or
  loses its worker for good; `JobCharge` moves by conditional UPDATE and ledger entries are unique per
  (job, round, kind), so a capture or release happens exactly once even when two code paths race;
- Stripe fulfilment is keyed by the Stripe object (PaymentIntent, invoice), so a replayed webhook adds nothing;
- refund rule: a refund takes back the refunded share of the pack's credits, but never more than is still
  available (balance − reserved): credits already spent on delivered videos, or reserved for running jobs, stay
  spent. What could not be taken back is recorded on the payment (`credits_not_recovered`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import gateway, selectors
from billing.models import (
    CreditAccount,
    Invoice,
    JobCharge,
    LedgerEntry,
    Payment,
    StripeCustomer,
    StripeEvent,
    Subscription,
)
from generation.pipeline.errors import BadInputError
from shop_video.ops import audit

logger = logging.getLogger(__name__)
Kind = LedgerEntry.Kind

# Audit actions (shop_video.ops.audit): every credit movement that is not a job's reserve/capture/release.
AUDIT_CREDITS_ADDED = "credits.added"
AUDIT_CREDITS_DEBITED = "credits.debited"
AUDIT_CREDITS_REFUNDED = "credits.refunded"


class InsufficientCredits(BadInputError):
    """The organization cannot afford the submission; nothing was created. The API answers 402."""

    code = "insufficient_credits"
    status_code = 402  # Payment Required; the API's exception handler reads http_status
    http_status = 402

    def __init__(self, *, required: int, available: int):
        self.required = required
        self.available = available
        super().__init__(
            _("Not enough credits: this needs %(required)d credits and %(available)d are available.")
            % {"required": required, "available": available}
        )


class BillingError(BadInputError):
    code = "billing_error"


# --- the account and the ledger ----------------------------------------------------------------------------------


def _locked_account(organization_id: int) -> CreditAccount:
    """The account row, locked until the surrounding transaction ends (created on first use)."""
    CreditAccount.objects.get_or_create(organization_id=organization_id)
    return CreditAccount.objects.select_for_update().get(organization_id=organization_id)


def _entry(account: CreditAccount, kind: str, credits: int, balance_delta: int, reserved_delta: int, **fields):
    """Apply a movement to a locked account (in memory) and return the unsaved ledger entry."""
    account.balance += balance_delta
    account.reserved += reserved_delta
    return LedgerEntry(
        organization_id=account.organization_id,
        kind=kind,
        credits=credits,
        balance_delta=balance_delta,
        reserved_delta=reserved_delta,
        balance_after=account.balance,
        reserved_after=account.reserved,
        **fields,
    )


def _save(account: CreditAccount, entries: Sequence[LedgerEntry]) -> None:
    account.save(update_fields=["balance", "reserved", "updated_at"])
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)


def _audit(action: str, entry: LedgerEntry, *, organization=None, user=None) -> None:
    """One audit event per credit adjustment, written in the ledger entry's transaction (both or neither)."""
    audit.record(
        action,
        actor=user if getattr(user, "is_authenticated", False) else None,
        organization=organization,
        target=entry,
        metadata={
            "kind": entry.kind,
            "credits": entry.credits,
            "balance_after": entry.balance_after,
            "reason": entry.reason,
            **({"external_ref": entry.external_ref} if entry.external_ref else {}),
        },
    )


def _notify_if_low(account: CreditAccount, available_before: int) -> None:
    """The `credits.low` webhook, once per fall of the available credits below SHOPVIDEO_CREDITS_LOW (queued by the
    webhooks app after commit, so a rolled-back reservation sends nothing)."""
    threshold = settings.SHOPVIDEO_CREDITS_LOW
    if available_before >= threshold > account.available:
        from shop_video.dashboard.notifications import queue_credits_low  # the members' email, after commit
        from shop_video.webhooks.services import emit  # billing stays importable without the webhooks app loaded

        queue_credits_low(account.organization_id)

        emit(
            "credits.low",
            account.organization_id,
            {
                "balance": account.balance,
                "reserved": account.reserved,
                "available": account.available,
                "threshold": threshold,
            },
        )


def _positive(credits: Any) -> int:
    if isinstance(credits, bool) or not isinstance(credits, int) or credits <= 0:
        raise BillingError(_("The number of credits must be a positive whole number."), "invalid_credits")
    return credits


def grant_credits(
    *,
    organization,
    credits: int,
    reason: str,
    kind: str = Kind.GRANT,
    user=None,
    external_ref: str = "",
) -> LedgerEntry:
    """Add credits (grant, purchase or positive adjustment) as one ledger entry with its reason."""
    credits = _positive(credits)
    if kind not in (Kind.GRANT, Kind.PURCHASE, Kind.ADJUSTMENT):
        raise BillingError(_("Credits can only be added by a grant, purchase or adjustment."), "invalid_kind")
    with transaction.atomic():
        account = _locked_account(organization.pk)
        entry = _entry(
            account,
            kind,
            credits,
            credits,
            0,
            reason=(reason or "")[:300],
            external_ref=external_ref,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _save(account, [entry])
        _audit(AUDIT_CREDITS_ADDED, entry, organization=organization, user=user)
    return entry


def debit_adjustment(*, organization, credits: int, reason: str, user=None) -> LedgerEntry:
    """Support takes credits back; never below what is spent or reserved (available must cover it)."""
    credits = _positive(credits)
    with transaction.atomic():
        account = _locked_account(organization.pk)
        if credits > account.available:
            raise InsufficientCredits(required=credits, available=account.available)
        available_before = account.available
        entry = _entry(
            account,
            Kind.ADJUSTMENT,
            credits,
            -credits,
            0,
            reason=(reason or "")[:300],
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _save(account, [entry])
        _audit(AUDIT_CREDITS_DEBITED, entry, organization=organization, user=user)
        _notify_if_low(account, available_before)
    return entry


def grant_signup_credits(organization) -> LedgerEntry | None:
    credits = int(settings.SHOPVIDEO_SIGNUP_CREDITS)
    if credits <= 0:
        return None
    return grant_credits(organization=organization, credits=credits, reason=_("Welcome credits"))


def grant_demo_credits(organization) -> LedgerEntry | None:
    """`make demo`: top the demo organization up to the demo grant (idempotent across runs)."""
    with transaction.atomic():
        account = _locked_account(organization.pk)
        missing = int(settings.SHOPVIDEO_DEMO_CREDITS) - account.available
        if missing <= 0:
            return None
        return grant_credits(organization=organization, credits=missing, reason=_("Demo credits (payments disabled)"))


# --- jobs: reserve, capture, release -----------------------------------------------------------------------------


def reserve_jobs(*, organization, jobs: Sequence) -> int:
    """Reserve each job's credits; must run inside the transaction that creates (or requeues) the jobs, so that a
    refusal (InsufficientCredits) rolls all of it back. Returns the credits reserved."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_jobs must run inside the transaction that creates the jobs")
    jobs = [j for j in jobs if j.credits > 0]
    total = sum(int(j.credits) for j in jobs)
    account = _locked_account(organization.pk)
    if total > account.available:
        raise InsufficientCredits(required=total, available=account.available)
    available_before = account.available
    existing = {c.job_id: c for c in JobCharge.objects.select_for_update().filter(job__in=[j.pk for j in jobs])}
    entries: list[LedgerEntry] = []
    new_charges: list[JobCharge] = []
    for job in jobs:
        charge = existing.get(job.pk)
        if charge is None:
            new_charges.append(JobCharge(job_id=job.pk, organization_id=organization.pk, credits=job.credits))
            job_round = 1
        elif charge.state == JobCharge.State.RESERVED:
            continue  # already holds a reservation
        else:  # a retried job: a new round
            job_round = charge.round + 1
            JobCharge.objects.filter(pk=charge.pk, state=charge.state).update(
                state=JobCharge.State.RESERVED, round=job_round, credits=job.credits, updated_at=timezone.now()
            )
        entries.append(_entry(account, Kind.RESERVE, job.credits, 0, job.credits, job_id=job.pk, job_round=job_round))
    JobCharge.objects.bulk_create(new_charges, batch_size=1000)
    _save(account, entries)
    _notify_if_low(account, available_before)
    return sum(e.credits for e in entries)


def settle_jobs(job_ids: Iterable[int]) -> None:
    """Capture the reservation of each succeeded job and release it for failed or canceled ones. Runs inside the
    transaction that finalizes the jobs; a job without an open reservation is left alone (exactly once)."""
    from generation.models import Job

    ids = sorted(set(job_ids))
    if not ids:
        return
    charges = list(JobCharge.objects.filter(job_id__in=ids, state=JobCharge.State.RESERVED))
    if not charges:
        return
    states = dict(Job.objects.filter(id__in=[c.job_id for c in charges]).values_list("id", "state"))
    by_org: dict[int, list[JobCharge]] = defaultdict(list)
    for charge in charges:
        by_org[charge.organization_id].append(charge)
    for org_id in sorted(by_org):
        account = _locked_account(org_id)  # account first, then charges: the same order as reserve_jobs
        entries: list[LedgerEntry] = []
        for charge in by_org[org_id]:
            state = states.get(charge.job_id)
            if state == Job.State.SUCCEEDED:
                new_state, kind, balance_delta = JobCharge.State.CAPTURED, Kind.CAPTURE, -charge.credits
            elif state in (Job.State.FAILED, Job.State.CANCELED):
                new_state, kind, balance_delta = JobCharge.State.RELEASED, Kind.RELEASE, 0
            else:
                continue
            # The conditional UPDATE is the exactly-once gate: a concurrent settle of the same job finds 0 rows.
            won = JobCharge.objects.filter(pk=charge.pk, state=JobCharge.State.RESERVED, round=charge.round).update(
                state=new_state, updated_at=timezone.now()
            )
            if won:
                entries.append(
                    _entry(
                        account,
                        kind,
                        charge.credits,
                        balance_delta,
                        -charge.credits,
                        job_id=charge.job_id,
                        job_round=charge.round,
                    )
                )
        _save(account, entries)


def charge_on_approval(job) -> int:
    """Charge a held-back video that the merchant approves (delivery), exactly once; returns the credits charged.

    Runs inside the caller's transaction (the review change), so an approval that cannot be paid changes nothing:
    InsufficientCredits (402). The charge opens a new round of the job (reserve + capture), as a retried job does,
    so the ledger's one-entry-per-(job, round, kind) rule holds and a second approval finds it captured."""
    account = _locked_account(job.organization_id)  # account first, then the charge: the order of reserve_jobs
    charge = JobCharge.objects.select_for_update().filter(job_id=job.pk).first()
    if charge is None or charge.state != JobCharge.State.RELEASED:
        return 0
    available_before = account.available
    if available_before < charge.credits:
        raise InsufficientCredits(required=charge.credits, available=available_before)
    job_round = charge.round + 1
    JobCharge.objects.filter(pk=charge.pk, state=JobCharge.State.RELEASED).update(
        state=JobCharge.State.CAPTURED, round=job_round, updated_at=timezone.now()
    )
    entries = [
        _entry(account, Kind.RESERVE, charge.credits, 0, charge.credits, job_id=job.pk, job_round=job_round),
        _entry(
            account, Kind.CAPTURE, charge.credits, -charge.credits, -charge.credits, job_id=job.pk, job_round=job_round
        ),
    ]
    _save(account, entries)
    _notify_if_low(account, available_before)
    return charge.credits


# --- Stripe: customers, packs, plans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    slug: str
    credits: int
    amount: int  # smallest currency unit
    currency: str

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


def refund_payment(*, payment: Payment, amount: int | None = None, user=None) -> Payment:
    """Support refunds (part of) a pack through Stripe; credits are taken back by the refund rule."""
    _require_payments()
    if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
        raise BillingError(_("Only a paid payment can be refunded."), "not_refundable")
    refunded_total = gateway.refund(payment_intent_id=payment.payment_intent_id, amount=amount)
    return apply_refund(payment_intent_id=payment.payment_intent_id, amount_refunded=refunded_total, user=user)


# --- fulfilment (from verified webhook events) --------------------------------------------------------------------


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
            reason=_("Credit pack %(pack)s") % {"pack": payment.pack},
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
    (the recorded total only grows). Takes back at most what is available; see the module docstring."""
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
                reason=_("Refund of credit pack %(pack)s") % {"pack": payment.pack},
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


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


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
                reason=_("Monthly plan %(plan)s") % {"plan": plan_slug},
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


def process_pending_events(limit: int = 100) -> int:
    """Sweep for events whose after-commit processing did not run (a crash between commit and fulfilment)."""
    ids = list(
        StripeEvent.objects.filter(processed_at__isnull=True).order_by("id").values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        process_event(pk)
    return len(ids)
