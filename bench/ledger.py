"""Ledger throughput on PostgreSQL: reservations per second with 1 and 8 concurrent clients, and the cost of the
balance query with 1,000,000 ledger rows (read from the running totals, not summed).

Usage (a scratch database, never production):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ledger .venv/bin/python bench/ledger.py [--rows 1000000]
It migrates that database, makes one organization per client, and reserves through billing.services.reserve_jobs
(row lock + ledger entry + JobCharge), as submit_batch does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
# A benchmark serves nothing and keeps nothing signed: a throwaway key, unless one is set.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing import selectors, services  # noqa: E402
from billing.models import CreditAccount, LedgerEntry  # noqa: E402
from generation.models import Batch, Job, MarketPreset, Photo, Product, Scene  # noqa: E402
from shop_video.merchants.models import Organization  # noqa: E402


def _org(name: str, credits: int) -> tuple[Organization, Photo]:
    org = Organization.objects.create(name=name, slug=f"{name}-{time.time_ns()}")
    services.grant_credits(organization=org, credits=credits, reason="bench")
    product = Product.objects.create(organization=org, title="bench")
    photo = Photo.objects.create(organization=org, product=product, file="bench.png", width=1, height=1, checksum="0")
    return org, photo


def _reserve_loop(org, photo, seconds: float, counts: list[int], idx: int, barrier: threading.Barrier) -> None:
    market, scene = MarketPreset.objects.first(), Scene.objects.first()
    batch = Batch.objects.create(organization=org, name="bench")
    barrier.wait()
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        with transaction.atomic():
            job = Job.objects.create(
                organization=org,
                batch=batch,
                photo=photo,
                market=market,
                scene=scene,
                aspect_ratio="1:1",
                seconds=5,
                credits=5,
                queued_at=timezone.now(),
            )
            services.reserve_jobs(organization=org, credits_by_job={job.pk: job.credits})
        n += 1
    counts[idx] = n
    connections.close_all()


def reservations_per_second(clients: int, seconds: float, same_org: bool) -> float:
    shared = _org("bench-shared", 10**12) if same_org else None
    orgs = [shared if same_org else _org(f"bench-{i}", 10**12) for i in range(clients)]
    counts = [0] * clients
    barrier = threading.Barrier(clients)
    threads = [
        threading.Thread(target=_reserve_loop, args=(o[0], o[1], seconds, counts, i, barrier))
        for i, o in enumerate(orgs)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def balance_query_cost(rows: int) -> tuple[float, float, int]:
    org, _photo = _org("bench-big", 1)
    have = LedgerEntry.objects.filter(organization=org).count()
    with connection.cursor() as cur:  # bulk rows straight in SQL: +1 grant each, keeping the running totals right
        cur.execute(
            """INSERT INTO billing_ledgerentry (organization_id, kind, credits, balance_delta, reserved_delta,
                   balance_after, reserved_after, job_round, external_ref, reason, created_at)
               SELECT %s, 'grant', 1, 1, 0, 1 + g, 0, 0, '', 'bench', now() FROM generate_series(1, %s) g""",
            [org.pk, rows - have],
        )
    CreditAccount.objects.filter(organization=org).update(balance=rows)
    with connection.cursor() as cur:
        cur.execute("ANALYZE billing_ledgerentry")
    timings = []
    for _ in range(200):
        t = time.perf_counter()
        selectors.credits_for(org)
        timings.append(time.perf_counter() - t)
    t = time.perf_counter()
    sums = selectors.ledger_sums(org)
    scan = time.perf_counter() - t
    assert sums.balance == rows == selectors.credits_for(org).balance
    return statistics.median(timings) * 1000, scan * 1000, LedgerEntry.objects.filter(organization=org).count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run on PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    print(f"1 client: {reservations_per_second(1, args.seconds, False):.0f} reservations/s")
    print(f"8 clients, 8 organizations: {reservations_per_second(8, args.seconds, False):.0f} reservations/s")
    print(
        "8 clients, one organization (one row lock): "
        f"{reservations_per_second(8, args.seconds, True):.0f} reservations/s"
    )
    median_ms, scan_ms, count = balance_query_cost(args.rows)
    print(
        f"balance query with {count} ledger rows: {median_ms:.3f} ms median (running totals); "
        f"full SUM over the ledger for comparison: {scan_ms:.0f} ms"
    )


if __name__ == "__main__":
    main()
