"""CSV import validation throughput: rows per second and peak Python memory (tracemalloc) while a catalogue of
10,000 and 100,000 rows is staged: read as a stream from disk, every row validated and written to the database.
Images are not fetched here (that is the worker's network-bound part).

Usage (a scratch database; SQLite under var/bench-csv by default):
    .venv/bin/python bench/csv_import.py [--rows 10000 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_csv .venv/bin/python bench/csv_import.py
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHOPVIDEO_VAR_DIR", str(ROOT / "var" / "bench-csv"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_video.settings")
# A benchmark serves nothing and keeps nothing signed: a throwaway key, unless one is set.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from generation.imports import services  # noqa: E402
from generation.models import CatalogImport  # noqa: E402
from shop_video.merchants.models import Organization  # noqa: E402


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("sku,title,category,image_url,markets,scenes,aspect_ratios,seconds,title_de\r\n")
        for i in range(rows):
            fh.write(
                f'B-{i:07d},Product {i} with a realistic title,home,https://cdn.example/p/{i}.jpg,"us,de",'
                f"studio-sweep,9:16|1:1,5,Produkt {i}\r\n"
            )


def run(rows: int, trace: bool) -> tuple[float, int, CatalogImport]:
    org, _ = Organization.objects.get_or_create(slug=f"bench-csv-{rows}-{int(trace)}", defaults={"name": "Bench"})
    CatalogImport.objects.filter(organization=org).delete()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.csv"
        write_csv(path, rows)
        with path.open("rb") as fh:
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            imp = services.stage_import(organization=org, csv_upload=fh, filename=path.name, options={})
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.stop()
    return elapsed, peak, imp


def main() -> None:
    # No broker in a benchmark: the queued image check is expected to fail to send (the page offers a re-send).
    logging.getLogger("generation.imports.stage").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.SHOPVIDEO_IMPORT_MAX_ROWS = max(args.rows)
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print("| rows | database | seconds | rows/s | peak traced memory (MiB) | file (MiB) |")
    print("|---:|---|---:|---:|---:|---:|")
    for rows in args.rows:
        elapsed, _peak, imp = run(rows, trace=False)
        assert imp.rows_total == rows and imp.rows_invalid == 0, (imp.rows_total, imp.rows_invalid)
        _t, peak, _imp = run(rows, trace=True)
        size = imp.file.size / 2**20
        print(f"| {rows:,} | {db} | {elapsed:.1f} | {rows / elapsed:,.0f} | {peak / 2**20:.1f} | {size:.1f} |")


if __name__ == "__main__":
    main()
