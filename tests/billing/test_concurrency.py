"""20 parallel submissions (threads, each with its own database connection) that together cost twice the
balance: exactly the affordable ones are accepted, the balance never goes below zero, the ledger sums to it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from billing import selectors, services
from billing.models import CreditAccount, LedgerEntry
from generation import services as jobs
from generation.models import Job
from tests.factories import OrganizationFactory, PhotoFactory, ensure_presets

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serializes whole-database writes, so there is no row-lock race to test",
    ),
]


def test_parallel_submissions_never_overspend(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_presets()
    org = OrganizationFactory(credits=50)
    photo = PhotoFactory(product__organization=org)
    matrix = jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[5], seed=1)  # 5 credits each
    barrier = threading.Barrier(20)
    accepted: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            barrier.wait(timeout=30)
            batch = jobs.submit_batch(organization=org, photos=[photo], matrix=matrix)
            with lock:
                accepted.append(batch.pk)
        except services.InsufficientCredits as exc:
            with lock:
                refused.append(exc.code)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors, errors
    assert len(accepted) == 10 and refused == ["insufficient_credits"] * 10
    assert Job.objects.filter(organization=org).count() == 10
    account = CreditAccount.objects.get(organization=org)
    assert (account.balance, account.reserved, account.available) == (50, 50, 0)
    assert selectors.ledger_is_consistent(org)
    # The running totals after every entry stayed within bounds (never below zero, never over-reserved).
    for balance_after, reserved_after in LedgerEntry.objects.filter(organization=org).values_list(
        "balance_after", "reserved_after"
    ):
        assert 0 <= reserved_after <= balance_after
