"""A zip of images is untrusted: every failure while reading one of its images is that row's issue with a stable
code, and the import always reaches a final status, through the task as a worker runs it (Celery's tracer with
its retry and failure handling, `Task.apply`). The nasty zips are built here byte by byte."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from generation import tasks_import
from generation.imports import processing, services, stage
from generation.imports.validate import report_rows
from generation.models import CatalogImport, Photo
from tests.imports.conftest import csv_bytes, product_jpeg, zip_bytes

pytestmark = pytest.mark.django_db

HEADER = "sku,title,image_file,markets"
CSV_ONE = csv_bytes([HEADER, "Z-1,Zipped,a.jpg,us"])
CSV_TWO = csv_bytes([HEADER, "Z-1,Zipped,a.jpg,us", "Z-2,Good,b.jpg,us"])


# --- building nasty zips ------------------------------------------------------------------------------------------


def with_bad_crc(data: bytes, name: str) -> bytes:
    """A zip written by zipfile whose CRC-32 of `name` is wrong, in the local header and the central directory."""
    archive = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    bad = struct.pack("<I", info.CRC ^ 0xFFFFFFFF)
    archive[info.header_offset + 14 : info.header_offset + 18] = bad  # local header: CRC-32 at offset 14
    central = archive.index(b"PK\x01\x02")
    while archive[central + 46 : central + 46 + len(name)] != name.encode():
        central = archive.index(b"PK\x01\x02", central + 4)
    archive[central + 16 : central + 20] = bad  # central directory: CRC-32 at offset 16
    return bytes(archive)


def hand_made_zip(name: str, stream: bytes, *, declared_size: int, crc: int) -> bytes:
    """One deflated member with headers written by hand: `stream` is the raw deflate data, `declared_size` what
    both headers claim it inflates to."""
    raw_name = name.encode()
    fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, crc, len(stream), declared_size, len(raw_name), 0)
    local = b"PK\x03\x04" + fields + raw_name
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + fields
        + struct.pack("<HHHII", 0, 0, 0, 0, 0)  # comment length, disk, attributes, offset of the local header 0
        + raw_name
    )
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(stream), 0)
    return local + stream + central + end


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# --- running an import as the worker does -------------------------------------------------------------------------


def run_import(org, csv: bytes, archive: bytes) -> tuple[CatalogImport, set[tuple[int, str, str]]]:
    imp = services.stage_import(organization=org, csv_upload=csv, zip_upload=archive)
    assert imp.status == CatalogImport.Status.FETCHING, imp.file_issues  # the zip itself passed staging
    result = tasks_import.process_catalog_import.apply(args=(imp.pk,))
    assert result.successful(), result.traceback
    imp.refresh_from_db()
    return imp, {(r, c, code) for r, c, code, _m in report_rows(imp)}


def test_a_member_with_a_bad_crc_is_its_rows_issue(org):
    archive = with_bad_crc(zip_bytes({"a.jpg": product_jpeg(1), "b.jpg": product_jpeg(2)}), "a.jpg")
    imp, report = run_import(org, CSV_TWO, archive)
    assert imp.status == CatalogImport.Status.READY  # the other row's image was fine
    assert (2, "image_file", "image_zip_corrupt") in report
    assert (imp.rows_valid, imp.rows_invalid) == (1, 1)


def test_a_bad_crc_on_the_only_row_fails_the_import_with_the_report(org):
    archive = with_bad_crc(zip_bytes({"a.jpg": product_jpeg(1)}), "a.jpg")
    imp, report = run_import(org, CSV_ONE, archive)
    assert imp.status == CatalogImport.Status.FAILED
    assert report == {(2, "image_file", "image_zip_corrupt"), (0, "", "no_valid_rows")}
    assert not Photo.objects.filter(organization=org).exists()


def test_a_stream_that_inflates_past_its_declared_size_is_read_no_further(org):
    # Both headers claim 1,000 bytes; the stream inflates to 200 MB. Reading stops at the declared size and the
    # CRC-32 of what was read cannot match, so the row is refused having held about a kilobyte.
    huge = product_jpeg(1) + bytes(200 * 1024 * 1024)
    archive = hand_made_zip("a.jpg", deflate(huge), declared_size=1000, crc=zlib.crc32(huge))
    tracemalloc.start()
    try:
        imp, report = run_import(org, CSV_ONE, archive)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "image_zip_corrupt") in report
    assert peak < 20 * 1024 * 1024, peak


def test_a_stream_cut_to_its_declared_size_with_a_matching_crc_is_a_truncated_image(org):
    # The same lie with the CRC-32 of the first 1,000 bytes: what is read is a JPEG cut short, refused as such.
    huge = product_jpeg(1) + bytes(10 * 1024 * 1024)
    archive = hand_made_zip("a.jpg", deflate(huge), declared_size=1000, crc=zlib.crc32(huge[:1000]))
    imp, report = run_import(org, CSV_ONE, archive)
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "truncated_image") in report


def test_a_member_declared_larger_than_the_limit_is_not_read(org, settings):
    settings.SHOPVIDEO_IMPORT_MAX_IMAGE_BYTES = 1024 * 1024
    big = product_jpeg(1) + bytes(2 * 1024 * 1024)
    imp, report = run_import(org, CSV_ONE, zip_bytes({"a.jpg": big}))
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "image_too_large_bytes") in report


def test_a_member_whose_data_is_cut_short_is_its_rows_issue(org):
    data = product_jpeg(1)
    stream = deflate(data)
    archive = hand_made_zip("a.jpg", stream[: len(stream) // 2], declared_size=len(data), crc=zlib.crc32(data))
    imp, report = run_import(org, CSV_ONE, archive)
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "image_zip_corrupt") in report


def test_a_member_with_a_broken_deflate_stream_is_its_rows_issue(org):
    data = product_jpeg(1)
    stream = bytearray(deflate(data))
    stream[0] = 0xFF  # block type 3: not a valid deflate block (zlib.error, which is not an OSError)
    archive = hand_made_zip("a.jpg", bytes(stream), declared_size=len(data), crc=zlib.crc32(data))
    imp, report = run_import(org, CSV_ONE, archive)
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "image_zip_corrupt") in report


def test_a_member_with_an_unsupported_compression_method_is_its_rows_issue(org):
    data = product_jpeg(1)
    archive = bytearray(zip_bytes({"a.jpg": data}))
    # Compression method 99 (AES encryption) in both headers: zipfile cannot read it.
    archive[8:10] = struct.pack("<H", 99)
    central = archive.index(b"PK\x01\x02")
    archive[central + 10 : central + 12] = struct.pack("<H", 99)
    imp, report = run_import(org, CSV_ONE, bytes(archive))
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "image_zip_unsupported") in report


def test_an_unreadable_image_in_the_zip_is_its_rows_issue(org):
    imp, report = run_import(org, CSV_ONE, zip_bytes({"a.jpg": product_jpeg(1)[:2000]}))
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "truncated_image") in report


def test_an_archive_truncated_in_storage_after_the_upload_fails_its_rows(org, media_root):
    imp = services.stage_import(organization=org, csv_upload=CSV_ONE, zip_upload=zip_bytes({"a.jpg": product_jpeg(1)}))
    stored = media_root / imp.images_zip.name
    stored.write_bytes(stored.read_bytes()[:100])  # a partial write: the central directory is gone
    tasks_import.process_catalog_import.apply(args=(imp.pk,))
    imp.refresh_from_db()
    report = {(r, c, code) for r, c, code, _m in report_rows(imp)}
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "zip_unreadable") in report


def test_anything_else_raised_for_one_image_is_image_unreadable(org, monkeypatch):
    # A decoder bug cannot be produced on demand: the ingest step raises what no check foresaw.
    from generation.pipeline import ingest

    def decoder_bug(data):
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(ingest, "ingest_photo", decoder_bug)
    imp, report = run_import(org, CSV_ONE, zip_bytes({"a.jpg": product_jpeg(1)}))
    assert imp.status == CatalogImport.Status.FAILED
    assert (2, "image_file", "image_unreadable") in report


def test_a_run_that_stops_on_an_error_fails_the_import_and_can_be_resumed(member, monkeypatch, client):
    """Storage failing while staging an image: the run stops, the import is FAILED (not left fetching), and the
    dashboard's "check again" resumes it once storage works."""
    org = member.organization

    def storage_down(self, name, content, *args, **kwargs):
        raise OSError("No space left on device")

    imp = services.stage_import(organization=org, csv_upload=CSV_ONE, zip_upload=zip_bytes({"a.jpg": product_jpeg(1)}))
    with monkeypatch.context() as patched:
        patched.setattr(FileSystemStorage, "save", storage_down)
        assert tasks_import.process_catalog_import.apply(args=(imp.pk,)).successful()
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.FAILED
    assert [i["code"] for i in imp.file_issues] == ["import_processing_failed"]
    assert processing.can_resume(imp)

    monkeypatch.setattr(stage, "enqueue_processing", lambda pk: tasks_import.process_catalog_import.apply((pk,)))
    client.force_login(member.user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/imports/{imp.pk}/recheck/")
    assert response.status_code == 302
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.READY and imp.file_issues == []


def test_the_task_giving_up_on_database_errors_fails_the_import(org, monkeypatch):
    from django.db import OperationalError

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    imp = services.stage_import(organization=org, csv_upload=CSV_ONE, zip_upload=zip_bytes({"a.jpg": product_jpeg(1)}))
    monkeypatch.setattr(processing, "_process_row", database_gone)
    result = tasks_import.process_catalog_import.apply(args=(imp.pk,))
    assert result.failed()  # retried, then given up
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.FAILED
    assert [i["code"] for i in imp.file_issues] == ["import_processing_failed"]


def _upload(client, archive: bytes):
    files = {
        "file": SimpleUploadedFile("cat.csv", CSV_ONE, content_type="text/csv"),
        "images": SimpleUploadedFile("images.zip", archive, content_type="application/zip"),
    }
    return client.post(
        reverse("dashboard:import_list"), {**files, "markets": ["us"], "seconds": 5, "resolution": "480p"}
    )


def test_uploading_again_after_a_corrupt_zip(client, member, monkeypatch):
    """The same upload again shows the finished report; the zip made again is a new import that succeeds."""
    monkeypatch.setattr(stage, "enqueue_processing", lambda pk: tasks_import.process_catalog_import.apply((pk,)))
    client.force_login(member.user)
    bad = with_bad_crc(zip_bytes({"a.jpg": product_jpeg(1)}), "a.jpg")
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = _upload(client, bad)
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = _upload(client, bad)
    assert again["Location"] == first["Location"]
    page = client.get(again["Location"]).content.decode()
    assert 'data-import-status="failed"' in page and "image_zip_corrupt" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        fixed = _upload(client, zip_bytes({"a.jpg": product_jpeg(1)}))
    assert fixed["Location"] != first["Location"]
    assert 'data-import-status="ready"' in client.get(fixed["Location"]).content.decode()
