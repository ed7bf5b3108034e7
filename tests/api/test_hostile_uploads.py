"""The hostile-file set (tests/ops/hostile_files.py, the same 100 files the dashboard test sends) through the REST
API: product creation (multipart), the photos endpoint, masks and the catalogue import (hostile CSVs, zip bombs,
path-traversal zips). Every refusal is a 4xx in the one error format with a stable code, never a 500; what is
stored afterwards is only image bytes of ours (polyglots cut down to the image); every URL the API hands out
serves a type no browser executes, with nosniff, downloads as attachments."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from generation.imports import services as import_services
from generation.models import CatalogImport, Job, Photo
from tests.factories import JobFactory
from tests.ops.hostile_files import (
    FORBIDDEN_IN_STORED,
    SAFE_SERVED_TYPES,
    assert_only_our_images_stored,
    corpus,
    polyglots,
    zip_of,
)

from .conftest import error_of, make_video, photo_file

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# The stable codes a refused photo may carry (generation.pipeline.ingest, DRF's file field, the upload check).
PHOTO_CODES = {
    "empty_file",
    "file_too_large",
    "not_an_image",
    "unsupported_format",
    "decompression_bomb",
    "image_too_large",
    "image_too_small",
    "truncated_image",
    "bad_image",
    # A damaged photo that still decodes may fail the cutout (generation.pipeline.cutout).
    "background_not_plain",
    "empty_mask",
    "mask_covers_photo",
    "cutout_failed",
}
MASK_CODES = {"bad_mask", "mask_empty", "mask_full", "mask_size_mismatch", "empty_mask", "mask_covers_photo"}


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def _upload(name: str, data: bytes, ctype: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=ctype)


def _refusal(response) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    return error_of(response)


def _assert_served_safely(url: str, *, download: bool = False) -> None:
    served = Client().get(url)  # signed URLs: no key needed, like a browser following the link
    assert served.status_code == 200, url
    assert served["Content-Type"].split(";")[0] in SAFE_SERVED_TYPES, (url, served["Content-Type"])
    assert served["X-Content-Type-Options"] == "nosniff", url
    if download:
        assert served["Content-Disposition"].startswith("attachment;"), url


def test_hostile_files_through_product_creation_and_the_photos_endpoint(api, org, media):
    files = corpus()
    assert len(files) == 100
    codes: dict[str, int] = {}
    accepted = 0
    for index, (name, data, ctype) in enumerate(files):
        response = api.post(
            "/api/v1/products",
            {"title": f"Hostile {index}", "category": "other", "photos": [_upload(name, data, ctype)]},
            format="multipart",
        )
        if response.status_code == 201:
            accepted += 1
            continue
        error = _refusal(response)
        if error["code"] == "upload_rejected":  # all or nothing: every bad file named with its own code
            assert [f["code"] for f in error["files"]] and all(f["code"] in PHOTO_CODES for f in error["files"])
            codes.update({f["code"]: codes.get(f["code"], 0) + 1 for f in error["files"]})
        else:  # DRF's file field refuses an empty file before the photo check
            assert error["code"] == "validation_error" and "photos" in error["fields"], error
            codes["validation_error"] = codes.get("validation_error", 0) + 1
    assert 100 - accepted >= 80, codes  # real images under hostile names and the polyglots are accepted
    assert {"not_an_image", "truncated_image", "unsupported_format", "image_too_small"} <= set(codes), codes

    product = api.post(
        "/api/v1/products", {"title": "Target", "photos": [photo_file("ok.png")]}, format="multipart"
    ).json()
    refused_photos = 0
    for name, data, ctype in files:
        response = api.post(
            "/api/v1/photos", {"product": product["id"], "file": _upload(name, data, ctype)}, format="multipart"
        )
        if response.status_code == 201:
            continue
        error = _refusal(response)
        refused_photos += 1
        assert error["code"] in PHOTO_CODES | {"validation_error"}, error
        assert "file" in error["fields"], error
    assert refused_photos == 100 - accepted

    # Hostile masks on a real photo: refused with a code; the photo keeps its computed mask.
    photo_id = product["photo_ids"][0]
    for name, data, ctype in files[:20]:
        response = api.post(f"/api/v1/photos/{photo_id}/mask", {"mask": _upload(name, data, ctype)}, format="multipart")
        error = _refusal(response)
        assert error["code"] in MASK_CODES | {"validation_error"} and "mask" in error["fields"], error
    assert Photo.objects.get(pk=photo_id).mask_source != "supplied"

    stored = assert_only_our_images_stored(media, org.pk)
    photos = list(Photo.objects.filter(organization=org))
    # Each stored photo file with its mask; a photo kept as needing a cutout (a damaged image that decodes as a
    # busy background) has no mask until the merchant draws a box.
    assert len(stored) == len({p.file.name for p in photos}) + len({p.mask.name for p in photos if p.mask})
    assert all(p.mask or p.needs_cutout for p in photos)
    for photo in photos:
        assert "/" not in photo.original_name and "\\" not in photo.original_name and "\x00" not in photo.original_name
    for item in api.get("/api/v1/photos?limit=100").json()["results"]:
        _assert_served_safely(item["file_url"])
        if item["mask_url"]:
            _assert_served_safely(item["mask_url"])


def test_a_stored_polyglot_is_cut_down_to_its_image(api, org, media):
    product = api.post(
        "/api/v1/products", {"title": "Target", "photos": [photo_file("ok.png")]}, format="multipart"
    ).json()
    png = Path(Photo.objects.get(pk=product["photo_ids"][0]).file.path).read_bytes()
    for name, data, ctype in polyglots(b"\xff\xd8", png)[:1]:  # a PNG with a zip after it
        response = api.post(
            "/api/v1/photos", {"product": product["id"], "file": _upload(name, data, ctype)}, format="multipart"
        )
        assert response.status_code == 201, response.content
        stored = Path(Photo.objects.get(pk=response.json()["id"]).file.path).read_bytes()
        assert data.startswith(stored) and len(stored) < len(data)
        assert all(n not in stored for n in FORBIDDEN_IN_STORED)


def _import(api, csv: bytes, images: bytes | None = None, name: str = "catalogue.csv"):
    payload = {"file": _upload(name, csv, "text/csv"), "markets": "us"}
    if images is not None:
        payload["images"] = _upload("images.zip", images, "application/zip")
    return api.post("/api/v1/imports", payload, format="multipart")


def test_hostile_catalogue_files_and_zips_are_refused_with_a_code_and_nothing_kept(
    api, org, media, settings, django_capture_on_commit_callbacks
):
    settings.SHOPVIDEO_IMPORT_MAX_ZIP_UNCOMPRESSED = 20 * 1024 * 1024
    good_csv = b"sku,title,image_file,markets\r\nH-1,Hostile,a.png,us\r\n"
    bomb = zip_of({"a.png": b"\0" * (30 * 1024 * 1024)})  # 30 MB of zeros in ~30 kB: over the declared limit
    assert len(bomb) < 100_000
    hostile_csvs = [(f"{name}.csv", data) for name, data, _ctype in corpus() if not name.startswith("cut")][:40]
    hostile_csvs += [
        ("utf16.csv", "sku,title\r\nA,B\r\n".encode("utf-16")),
        ("nul.csv", b"sku,title\x00\r\n\x00\x00\r\n"),
        ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
        ("header-only.csv", b"sku,title,image_file,markets\r\n"),
    ]
    codes: dict[str, int] = {}
    for name, data in hostile_csvs:
        with django_capture_on_commit_callbacks(execute=True):  # the discarded upload's files go after commit
            error = _refusal(_import(api, data, name=name))
        codes[error["code"]] = codes.get(error["code"], 0) + 1
        assert error["code"] not in ("server_error", "import_failed"), (name, error)
    hostile_zips = [
        ("bomb", bomb),
        ("not a zip", b"<html><script>alert(1)</script></html>"),
        ("cut zip", bomb[: len(bomb) // 2]),
        ("traversal only", zip_of({"../../a.png": b"x", "/etc/a.png": b"x", "..\\a.png": b"x"})),
    ]
    for label, data in hostile_zips:
        with django_capture_on_commit_callbacks(execute=True):
            error = _refusal(_import(api, good_csv, data))
        codes[error["code"]] = codes.get(error["code"], 0) + 1
        assert error["code"] not in ("server_error", "import_failed"), (label, error)
        assert error["issues"] and error["issues"][0]["code"] == error["code"], error
    assert {"zip_too_large", "zip_unreadable"} <= set(codes), codes
    assert not CatalogImport.objects.filter(organization=org).exists()
    assert not [p for p in media.rglob("*") if p.is_file()]  # nothing of a refused upload is kept


def test_a_zip_of_hostile_images_stages_only_clean_images(api, org, media):
    names = []
    members = {}
    lines = ["sku,title,image_file,markets"]
    files = corpus()
    for index, (name, data, _ctype) in enumerate(files[::5]):
        member = f"img{index}{Path(name).suffix[:5] or '.bin'}"
        members[member] = data
        names.append(member)
        lines.append(f"Z-{index},Zipped {index},{member},us")
    response = _import(api, ("\r\n".join(lines) + "\r\n").encode(), zip_of(members))
    assert response.status_code == 201, response.content
    imp = CatalogImport.objects.get(pk=response.json()["id"])
    import_services.process_import(imp.pk)  # what the worker runs
    report = api.get(f"/api/v1/imports/{imp.pk}").json()
    assert report["rows_invalid"] >= 15 and all(issue["code"] for issue in report["issues"])
    sources = [Path(imp.file.path), Path(imp.images_zip.path)]
    staged = assert_only_our_images_stored(media, org.pk, besides=sources)
    assert staged  # the polyglots' images, cut down, and the real images under hostile names
    # The row report is a download: CSV (cells defused against formulas), an attachment, nosniff.
    report_csv = api.get(f"/api/v1/imports/{imp.pk}/report")
    assert report_csv.status_code == 200 and report_csv["Content-Type"].startswith("text/csv")
    assert report_csv["Content-Disposition"].startswith("attachment;")
    assert report_csv["X-Content-Type-Options"] == "nosniff"


def test_served_video_urls_are_media_types_with_nosniff_and_downloads_are_attachments(api, product, media):
    video = make_video(JobFactory(photo=product.photos.first(), state=Job.State.SUCCEEDED))
    body = api.get(f"/api/v1/videos/{video.pk}").json()
    _assert_served_safely(body["download_url"], download=True)
    if body.get("poster_url"):
        _assert_served_safely(body["poster_url"])
