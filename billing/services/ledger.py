"""The ledger: every movement of credits (its only writer).

- every movement locks the organization's `CreditAccount` row (`SELECT … FOR UPDATE`), updates its running
  totals and appends one `LedgerEntry` in the same transaction; CHECK constraints keep `0 <= reserved <= balance`;
- a job's credits are reserved on submit, then captured when the video is delivered or released otherwise; the
  caller says which (billing knows nothing of jobs beyond their ids). `JobCharge` moves by conditional UPDATE and
  ledger entries are unique per (job, round, kind), so a capture or release happens exactly once even when two
  code paths race.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import names, signals
from billing.errors import BillingError, InsufficientCredits
from billing.models import CreditAccount, JobCharge, LedgerEntry
from shop_video.core import audit

logger = logging.getLogger(__name__)
Kind = LedgerEntry.Kind

# Audit actions (shop_video.core.audit): every credit movement that is not a job's reserve/capture/release.
AUDIT_CREDITS_ADDED = "credits.added"
AUDIT_CREDITS_DEBITED = "credits.debited"
AUDIT_CREDITS_REFUNDED = "credits.refunded"


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
    """`credits_low`, once per fall of the available credits below SHOPVIDEO_CREDITS_LOW. Sent inside the
    transaction: receivers (the members' email, the `credits.low` webhook) queue their work after commit, so a
    rolled-back reservation sends nothing."""
    threshold = settings.SHOPVIDEO_CREDITS_LOW
    if available_before >= threshold > account.available:
        signals.credits_low.send(
            sender=CreditAccount,
            organization_id=account.organization_id,
            balance=account.balance,
            reserved=account.reserved,
            available=account.available,
            threshold=threshold,
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
    return grant_credits(organization=organization, credits=credits, reason=names.WELCOME)


def grant_demo_credits(organization) -> LedgerEntry | None:
    """`make demo`: top the demo organization up to the demo grant (idempotent across runs)."""
    with transaction.atomic():
        account = _locked_account(organization.pk)
        missing = int(settings.SHOPVIDEO_DEMO_CREDITS) - account.available
        if missing <= 0:
            return None
        return grant_credits(organization=organization, credits=missing, reason=names.DEMO)


# --- jobs: reserve, then capture or release ----------------------------------------------------------------------


def reserve_jobs(*, organization, credits_by_job: Mapping[int, int]) -> int:
    """Reserve each job's credits (job id → credits); must run inside the transaction that creates (or requeues)
    the jobs, so that a refusal (InsufficientCredits) rolls all of it back. Returns the credits reserved."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_jobs must run inside the transaction that creates the jobs")
    wanted = {int(job_id): int(credits) for job_id, credits in credits_by_job.items() if credits > 0}
    total = sum(wanted.values())
    account = _locked_account(organization.pk)
    if total > account.available:
        raise InsufficientCredits(required=total, available=account.available)
    available_before = account.available
    existing = {c.job_id: c for c in JobCharge.objects.select_for_update().filter(job__in=list(wanted))}
    entries: list[LedgerEntry] = []
    new_charges: list[JobCharge] = []
    for job_id, credits in wanted.items():
        charge = existing.get(job_id)
        if charge is None:
            new_charges.append(JobCharge(job_id=job_id, organization_id=organization.pk, credits=credits))
            job_round = 1
        elif charge.state == JobCharge.State.RESERVED:
            continue  # already holds a reservation
        else:  # a retried job: a new round
            job_round = charge.round + 1
            JobCharge.objects.filter(pk=charge.pk, state=charge.state).update(
                state=JobCharge.State.RESERVED, round=job_round, credits=credits, updated_at=timezone.now()
            )
        entries.append(_entry(account, Kind.RESERVE, credits, 0, credits, job_id=job_id, job_round=job_round))
    JobCharge.objects.bulk_create(new_charges, batch_size=1000)
    _save(account, entries)
    _notify_if_low(account, available_before)
    return sum(e.credits for e in entries)


def settle_jobs(outcomes: Mapping[int, bool]) -> None:
    """Settle finished jobs (job id → delivered): capture the reservation of a delivered one, release it for the
    others. Runs inside the transaction that finalizes the jobs; a job without an open reservation is left alone
    (exactly once)."""
    if not outcomes:
        return
    charges = list(JobCharge.objects.filter(job_id__in=sorted(outcomes), state=JobCharge.State.RESERVED))
    by_org: dict[int, list[JobCharge]] = defaultdict(list)
    for charge in charges:
        by_org[charge.organization_id].append(charge)
    for org_id in sorted(by_org):
        account = _locked_account(org_id)  # account first, then charges: the same order as reserve_jobs
        entries: list[LedgerEntry] = []
        for charge in by_org[org_id]:
            if outcomes[charge.job_id]:
                new_state, kind, balance_delta = JobCharge.State.CAPTURED, Kind.CAPTURE, -charge.credits
            else:
                new_state, kind, balance_delta = JobCharge.State.RELEASED, Kind.RELEASE, 0
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


def charge_on_approval(*, organization_id: int, job_id: int) -> int:
    """Charge a held-back video that the merchant approves (delivery), exactly once; returns the credits charged.

    Runs inside the caller's transaction (the review change), so an approval that cannot be paid changes nothing:
    InsufficientCredits (402). The charge opens a new round of the job (reserve + capture), as a retried job does,
    so the ledger's one-entry-per-(job, round, kind) rule holds and a second approval finds it captured."""
    account = _locked_account(organization_id)  # account first, then the charge: the order of reserve_jobs
    charge = JobCharge.objects.select_for_update().filter(job_id=job_id).first()
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
        _entry(account, Kind.RESERVE, charge.credits, 0, charge.credits, job_id=job_id, job_round=job_round),
        _entry(
            account, Kind.CAPTURE, charge.credits, -charge.credits, -charge.credits, job_id=job_id, job_round=job_round
        ),
    ]
    _save(account, entries)
    _notify_if_low(account, available_before)
    return charge.credits
