"""Reads of the ledger: balances, history, usage (HackSoft styleguide: selectors read)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing.models import CreditAccount, Invoice, LedgerEntry, Payment, Subscription


@dataclass(frozen=True)
class Credits:
    balance: int
    reserved: int

    @property
    def available(self) -> int:
        return self.balance - self.reserved

    def as_dict(self) -> dict[str, int]:
        return {"balance": self.balance, "reserved": self.reserved, "available": self.available}


def credits_for(organization) -> Credits:
    """One primary-key read of the running totals: constant cost however long the ledger grows."""
    row = CreditAccount.objects.filter(organization=organization).values_list("balance", "reserved").first()
    return Credits(*row) if row else Credits(0, 0)


def ledger_sums(organization) -> Credits:
    """The totals recomputed from the ledger (a full scan; for checks and audits, not for pages)."""
    sums = LedgerEntry.objects.filter(organization=organization).aggregate(
        b=Sum("balance_delta"), r=Sum("reserved_delta")
    )
    return Credits(sums["b"] or 0, sums["r"] or 0)


def ledger_is_consistent(organization) -> bool:
    return ledger_sums(organization) == credits_for(organization)


def ledger_for(organization):
    return LedgerEntry.objects.filter(organization=organization).select_related("job").order_by("-id")


def daily_balance(organization, days: int = 30) -> list[dict]:
    """The closing balance and reserved credits of each day with movements in the last `days` days (chart)."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        LedgerEntry.objects.filter(organization=organization, created_at__gte=since)
        .order_by("id")
        .values("created_at", "balance_after", "reserved_after")
    )
    per_day: dict = {}
    for row in rows.iterator(chunk_size=2000):
        per_day[timezone.localdate(row["created_at"])] = (row["balance_after"], row["reserved_after"])
    return [{"day": day, "balance": b, "reserved": r} for day, (b, r) in sorted(per_day.items())]


def spend_by_market(organization) -> list[dict]:
    """Captured credits (spent on delivered videos) per market."""
    return list(
        LedgerEntry.objects.filter(organization=organization, kind=LedgerEntry.Kind.CAPTURE, job__isnull=False)
        .values("job__market__slug", "job__market__name")
        .annotate(credits=Sum("credits"), videos=Count("id"))
        .order_by("-credits", "job__market__slug")
    )


def spend_by_batch(organization, limit: int = 50) -> list[dict]:
    return list(
        LedgerEntry.objects.filter(organization=organization, kind=LedgerEntry.Kind.CAPTURE, job__isnull=False)
        .values("job__batch_id", "job__batch__name")
        .annotate(credits=Sum("credits"), videos=Count("id"))
        .order_by("-job__batch_id")[:limit]
    )


def spend_by_day(organization, days: int = 30) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    return list(
        LedgerEntry.objects.filter(organization=organization, kind=LedgerEntry.Kind.CAPTURE, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(credits=Sum("credits"))
        .order_by("day")
    )


def payments_for(organization):
    return Payment.objects.filter(organization=organization).order_by("-created_at", "-id")


def invoices_for(organization):
    return Invoice.objects.filter(organization=organization).order_by("-created_at", "-id")


def subscriptions_for(organization):
    return Subscription.objects.filter(organization=organization).order_by("-created_at", "-id")


def live_subscriptions(organization):
    """The plans Stripe still bills (active, trialing, past due, unpaid)."""
    return Subscription.objects.filter(organization=organization, status__in=Subscription.LIVE_STATUSES)
