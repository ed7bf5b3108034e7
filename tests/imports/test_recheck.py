"""The report says how to fix a failed image (its URL, the fix code, the file name a zip must use), and a re-check
with a zip of those images re-processes only the failed rows: the rows that passed keep their ids and staged
photos and are not fetched again."""

from __future__ import annotations

import csv
import io
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from generation.imports import services
from generation.models import CatalogImport, CatalogImportRow
from shop_video.merchants.api_keys import create_api_key
from tests.factories import OrganizationFactory
from tests.imports.conftest import csv_bytes, product_jpeg, zip_bytes

pytestmark = pytest.mark.django_db

GONE_HOST = "old-cdn.shop.test"
GONE_URL = f"http://{GONE_HOST}/media/catalogue/2024/summer/red-canvas-tote-front-view.jpg?v=3"


@pytest.fixture
def gone_host(monkeypatch) -> list[str]:
    """A shop's old image host that no longer resolves (as in test_fetch: the resolver is replaced, no network);
    records every lookup of it."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def resolve(host, port, *args, **kwargs):
        if host == GONE_HOST:
            lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return lookups


@pytest.fixture
def api():
    org = OrganizationFactory()
    _key, secret = create_api_key(organization=org, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.org = org
    return client


def _three_rows(server) -> bytes:
    return csv_bytes(
        [
            "sku,title,image_url,markets,aspect_ratios",
            f"T-1,Blue tote,{server.image('/a.jpg', product_jpeg(61))},us,1:1",
            f"T-2,Red tote,{GONE_URL},us,1:1",
            f"T-3,Green tote,{server.image('/c.jpg', product_jpeg(63))},us,1:1",
        ]
    )


def test_api_report_names_the_url_and_a_zip_recheck_fixes_only_the_failed_row(api, allow_server, gone_host):
    created = api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("c.csv", _three_rows(allow_server))}, format="multipart"
    )
    assert created.status_code == 201, created.content
    imp_id = created.json()["id"]
    services.process_import(imp_id)
    body = api.get(f"/api/v1/imports/{imp_id}").json()
    assert (body["status"], body["rows_valid"], body["rows_invalid"], body["rows_to_recheck"]) == ("ready", 2, 1, 1)
    assert body["issues"] == [
        {
            "row": 3,
            "column": "image_url",
            "code": "host_not_found",
            "message": "The image host could not be found.",
            "image": GONE_URL,  # complete, query included
            "fix": "upload_image_zip",
            "zip_name": "red-canvas-tote-front-view.jpg",
        }
    ]
    report = b"".join(api.get(f"/api/v1/imports/{imp_id}/report").streaming_content).decode()
    lines = list(csv.reader(io.StringIO(report.lstrip("\ufeff"))))
    assert lines[0] == ["row", "column", "code", "message", "image", "fix", "how to fix"]
    assert lines[1][:6] == [
        "3",
        "image_url",
        "host_not_found",
        "The image host could not be found.",
        GONE_URL,
        "upload_image_zip",
    ]
    assert "red-canvas-tote-front-view.jpg" in lines[1][6]

    rows = CatalogImportRow.objects.filter(catalog_import_id=imp_id)
    passed_before = {r.sku: (r.pk, r.photos) for r in rows.filter(status="valid")}
    assert set(passed_before) == {"T-1", "T-3"} and all(photos for _pk, photos in passed_before.values())
    fetched_before = list(allow_server.requests)
    gone_host.clear()

    fix = zip_bytes({"photos/red-canvas-tote-front-view.jpg": product_jpeg(62)})
    recheck = api.post(
        f"/api/v1/imports/{imp_id}/recheck",
        {"images": SimpleUploadedFile("fix.zip", fix, content_type="application/zip")},
        format="multipart",
    )
    assert recheck.status_code == 202, recheck.content
    assert recheck.json()["status"] == "fetching" and recheck.json()["rows_invalid"] == 0
    assert api.get("/api/v1/imports").json()["results"][0]["rows_to_recheck"] is None  # not in the list
    services.process_import(imp_id)  # the worker's run

    body = api.get(f"/api/v1/imports/{imp_id}").json()
    assert (body["status"], body["rows_valid"], body["rows_invalid"], body["issues"]) == ("ready", 3, 0, [])
    assert {r.sku: (r.pk, r.photos) for r in rows.filter(sku__in=["T-1", "T-3"])} == passed_before
    fixed = rows.get(sku="T-2")
    assert fixed.status == "valid" and len(fixed.photos) == 1
    assert fixed.photos[0]["original_name"].startswith("red-canvas-tote-front-view.jpg")
    # Nothing was downloaded again: not the rows that passed, not the gone host (the zip had its image).
    assert allow_server.requests == fetched_before and gone_host == []
    estimate = api.post(f"/api/v1/imports/{imp_id}/estimate", {}, format="json").json()
    assert estimate["videos"] == 3

    again = api.post(f"/api/v1/imports/{imp_id}/recheck")
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_recheck"


def test_recheck_refusals_change_nothing(api, allow_server, gone_host):
    imp = services.stage_import(organization=api.org, csv_upload=_three_rows(allow_server))
    busy = api.post(f"/api/v1/imports/{imp.pk}/recheck")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "import_not_ready"
    services.process_import(imp.pk)
    bad = api.post(
        f"/api/v1/imports/{imp.pk}/recheck", {"images": SimpleUploadedFile("x.zip", b"not a zip")}, format="multipart"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "zip_unreadable"
    assert "images" in bad.json()["error"]["fields"]
    imp.refresh_from_db()
    assert (imp.status, imp.rows_invalid, imp.fix_zip.name) == (CatalogImport.Status.READY, 1, "")

    # Without a zip the failed row is fetched again (the host is still gone): the same issue, the others untouched.
    assert api.post(f"/api/v1/imports/{imp.pk}/recheck").status_code == 202
    services.process_import(imp.pk)
    imp.refresh_from_db()
    assert (imp.status, imp.rows_valid, imp.rows_invalid) == (CatalogImport.Status.READY, 2, 1)
    assert gone_host == [GONE_HOST, GONE_HOST]
    assert imp.file_issues == []

    stranger = APIClient()
    _k, secret = create_api_key(organization=OrganizationFactory(), name="s")
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert stranger.post(f"/api/v1/imports/{imp.pk}/recheck").status_code == 404


def test_a_row_naming_a_file_without_a_zip_is_fixed_by_the_recheck_zip(api, allow_server):
    data = csv_bytes(
        [
            "sku,title,image_url,image_file,markets,aspect_ratios",
            f"F-1,Cap,{allow_server.image('/cap.jpg', product_jpeg(64))},,us,1:1",
            "F-2,Hat,,hat.jpg,us,1:1",
        ]
    )
    imp = services.stage_import(organization=api.org, csv_upload=data)
    services.process_import(imp.pk)
    body = api.get(f"/api/v1/imports/{imp.pk}").json()
    assert [(i["code"], i["image"], i["fix"], i["zip_name"]) for i in body["issues"]] == [
        ("no_zip", "hat.jpg", "upload_image_zip", "hat.jpg")
    ]
    response = api.post(
        f"/api/v1/imports/{imp.pk}/recheck",
        {"images": SimpleUploadedFile("f.zip", zip_bytes({"HAT.JPG": product_jpeg(65)}))},
        format="multipart",
    )
    assert response.status_code == 202
    services.process_import(imp.pk)
    imp.refresh_from_db()
    assert (imp.status, imp.rows_valid, imp.rows_invalid) == (CatalogImport.Status.READY, 2, 0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_upload_forms_zip_field_says_optional_once(client, settings, language):
    from django.urls import reverse
    from django.utils import translation

    from tests.factories import PASSWORD, MembershipFactory

    member = MembershipFactory()
    assert client.login(username=member.user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("dashboard:import_list")).content.decode()
    label = page.split('for="id_images"', 1)[1].split("</label>", 1)[0]
    with translation.override(language):
        optional = translation.gettext("optional")
    assert label.count(optional) == 1 and "可选" not in label, label  # 可选: the label's own "optional" before


def test_dashboard_recheck_refuses_a_bad_zip_and_a_viewer(client, allow_server, gone_host):
    from django.urls import reverse

    from tests.factories import PASSWORD, MembershipFactory

    editor = MembershipFactory()
    imp = services.stage_import(organization=editor.organization, csv_upload=_three_rows(allow_server))
    services.process_import(imp.pk)
    url = reverse("dashboard:import_recheck_failed", args=[imp.pk])
    viewer = MembershipFactory(organization=editor.organization, role="viewer")
    assert client.login(username=viewer.user.username, password=PASSWORD)
    assert client.post(url).status_code == 403
    assert client.login(username=editor.user.username, password=PASSWORD)
    page = client.get(reverse("dashboard:import_detail", args=[imp.pk])).content.decode()
    assert 'id="import-recheck-failed"' in page and f'title="{GONE_URL}"'.replace("&", "&amp;") in page
    bad = client.post(url, {"images": SimpleUploadedFile("x.zip", b"PK\x03\x04 not really")})
    assert bad.status_code == 400 and "not a readable zip file" in bad.content.decode()
    imp.refresh_from_db()
    assert (imp.status, imp.rows_invalid, imp.fix_zip.name) == (CatalogImport.Status.READY, 1, "")
    assert gone_host == [GONE_HOST]  # nothing was fetched again
