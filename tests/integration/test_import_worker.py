"""The probe's stuck import through a real Celery worker process and broker: a zip whose image has a bad CRC-32
is uploaded, queued on commit as in production, and the worker ends it with the row's issue."""

from __future__ import annotations

import pytest

from generation.imports import services
from generation.imports.validate import report_rows
from generation.models import CatalogImport
from tests.factories import MembershipFactory
from tests.imports.conftest import csv_bytes, product_jpeg, zip_bytes
from tests.imports.test_untrusted_zip import with_bad_crc
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bad_crc_in_the_zip_ends_as_the_rows_issue_in_a_real_worker(start_worker):
    start_worker()
    org = MembershipFactory().organization
    csv = csv_bytes(["sku,title,image_file,markets", "Z-1,Zipped,a.jpg,us", "Z-2,Good,b.jpg,us"])
    archive = with_bad_crc(zip_bytes({"a.jpg": product_jpeg(1), "b.jpg": product_jpeg(2)}), "a.jpg")
    imp = services.stage_import(organization=org, csv_upload=csv, zip_upload=archive)  # queued on commit

    def final() -> CatalogImport | None:
        imp.refresh_from_db()
        return imp if imp.status != CatalogImport.Status.FETCHING else None

    wait_for(final, 120, 0.3, "the import to leave fetching")
    assert imp.status == CatalogImport.Status.READY
    assert (imp.rows_valid, imp.rows_invalid) == (1, 1)
    assert (2, "image_file", "image_zip_corrupt") in {(r, c, code) for r, c, code, _m in report_rows(imp)}
