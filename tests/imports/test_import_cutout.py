"""A CSV row whose photo cannot be cut out automatically is reported (photo_needs_cutout), not imported as a
product whose videos would fail."""

from __future__ import annotations

import io

import pytest

from generation.imports import services
from generation.models import CatalogImportRow
from tests import synthetic
from tests.factories import OrganizationFactory
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db


def _busy_jpeg() -> bytes:
    buf = io.BytesIO()
    synthetic.busy_scene(seed=5)[0].save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_a_row_whose_photo_needs_a_cutout_is_reported_and_the_others_are_valid(allow_server):
    busy = allow_server.image("/busy.jpg", _busy_jpeg())
    plain = allow_server.image("/plain.jpg", product_jpeg(53))
    data = csv_bytes(["sku,title,image_url,markets", f"B-1,Boots,{busy},us", f"P-1,Pot,{plain},us"])
    imp = services.stage_import(organization=OrganizationFactory(), csv_upload=data)

    services.process_import(imp.pk)

    rows = {row.sku: row for row in CatalogImportRow.objects.filter(catalog_import=imp)}
    assert rows["B-1"].status == CatalogImportRow.Status.INVALID
    assert [issue["code"] for issue in rows["B-1"].issues] == ["photo_needs_cutout"]
    assert rows["P-1"].status == CatalogImportRow.Status.VALID
    assert rows["P-1"].photos[0]["cutout_needs_review"] is False
