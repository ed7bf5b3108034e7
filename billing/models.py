"""The credit ledger and the Stripe objects it is fulfilled from. The rules are in billing.services.ledger.

- `CreditAccount`: one row per organization holding the running `balance` and `reserved` totals. It is updated
  only under a row lock together with a ledger entry, and CHECK constraints keep `0 <= reserved <= balance`, so
  `available = balance - reserved` can never go below zero even if a code path forgot the lock.
- `LedgerEntry`: append-only. Each entry records how it moved the balance and the reserved total; the sums of
  `balance_delta` and `reserved_delta` equal the account's totals (checked by tests and `ledger_is_consistent`).
- `JobCharge`: the credit state of one job (reserved → captured | released; a retried job is reserved again in a
  new `round`). Ledger entries of a job are unique per (job, round, kind): a capture or release happens once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from billing import names


class CreditAccount(models.Model):
    organization = models.OneToOneField(
        "merchants.Organization", on_delete=models.CASCADE, related_name="credit_account"
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    reserved = models.BigIntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="credit_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("balance")), name="credit_reserved_within_balance"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.balance} ({self.reserved} reserved)"

    @property
    def available(self) -> int:
        return self.balance - self.reserved


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        # Labels say what happened to the merchant's credits, as the ledger shows them.
        PURCHASE = "purchase", _("Bought")
        GRANT = "grant", _("Granted")
        RESERVE = "reserve", _("Held for a video")
        CAPTURE = "capture", _("Charged")
        RELEASE = "release", _("Returned (no video)")
        REFUND = "refund", _("Refunded")
        ADJUSTMENT = "adjustment", _("Adjusted")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    credits = models.PositiveBigIntegerField(_("credits"), help_text=_("Size of the movement, always positive"))
    balance_delta = models.BigIntegerField(default=0)
    reserved_delta = models.BigIntegerField(default=0)
    balance_after = models.BigIntegerField()
    reserved_after = models.BigIntegerField()
    job = models.ForeignKey("generation.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    job_round = models.PositiveIntegerField(default=0)
    # A Stripe object (PaymentIntent, invoice, charge) that this entry fulfils: one entry per object and kind.
    external_ref = models.CharField(max_length=120, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["organization", "created_at"], name="ledger_org_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "job_round", "kind"], condition=Q(job__isnull=False), name="ledger_once_per_job_round"
            ),
            models.UniqueConstraint(
                fields=["kind", "external_ref"], condition=~Q(external_ref=""), name="ledger_once_per_external_ref"
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved_after__gte=0) & Q(reserved_after__lte=F("balance_after")),
                name="ledger_reserved_after_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.credits}"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language when billing wrote it (stored in English), else as typed."""
        return names.reason_text(self.reason)


class JobCharge(models.Model):
    class State(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        CAPTURED = "captured", _("Captured")
        RELEASED = "released", _("Released")

    job = models.OneToOneField("generation.Job", on_delete=models.CASCADE, related_name="charge")
    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="+")
    credits = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.RESERVED)
    round = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"job {self.job_id}: {self.state} {self.credits}"


class StripeCustomer(models.Model):
    organization = models.OneToOneField(
        "merchants.Organization", on_delete=models.CASCADE, related_name="stripe_customer"
    )
    customer_id = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.customer_id


class Payment(models.Model):
    """A credit-pack PaymentIntent we created; the credits are added when Stripe says it succeeded."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="payments")
    payment_intent_id = models.CharField(max_length=120, unique=True)
    pack = models.CharField(max_length=40)
    credits = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(help_text=_("In the currency's smallest unit"))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount_refunded = models.PositiveIntegerField(default=0)
    credits_refunded = models.PositiveIntegerField(default=0, help_text=_("Credits the refunds took back"))
    credits_not_recovered = models.PositiveIntegerField(
        default=0, help_text=_("Refunded credits that had already been spent or reserved")
    )
    receipt_url = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.payment_intent_id

    @property
    def price(self) -> str:
        return f"{self.amount / 100:.2f} {self.currency.upper()}"


class Subscription(models.Model):
    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="subscriptions")
    subscription_id = models.CharField(max_length=120, unique=True)
    plan = models.CharField(max_length=40)
    status = models.CharField(max_length=30)
    # The period paid for now; its end is when Stripe bills the next one (kept from Stripe's subscription events).
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # The SetupIntent whose card started it: a second submit of the same card form finds this row.
    setup_intent_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Statuses in which Stripe still bills (or will retry billing) the subscription.
    LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subscription_id

    @property
    def plan_name(self) -> str:
        return names.offer_name(self.plan)

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    @property
    def status_label(self) -> str:
        """Stripe's status in the merchant's language (an unknown one as Stripe spells it)."""
        labels = {
            "active": _("Active"),
            "trialing": _("Trial"),
            "past_due": _("Payment overdue"),
            "unpaid": _("Unpaid"),
            "canceled": _("Canceled"),
            "incomplete": _("First payment pending"),
            "incomplete_expired": _("Expired"),
        }
        return str(labels.get(self.status, self.status))


class Invoice(models.Model):
    """A paid subscription invoice; each grants its plan's credits once."""

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="invoices")
    invoice_id = models.CharField(max_length=120, unique=True)
    subscription_id = models.CharField(max_length=120, blank=True)
    plan = models.CharField(max_length=40, blank=True)
    credits = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.invoice_id


class StripeEvent(models.Model):
    """Every verified webhook event, stored once (unique event id); processed after the storing commit."""

    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
