"""Dashboard pages, the API and the management command: the same service underneath; another organization
gets 404 for every import URL."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from generation import services as gen_services
from generation.imports import services
from generation.models import Batch, CatalogImport, Job, Product
from shop_video.merchants.api_keys import create_api_key
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(gen_services.dispatch, "_send", lambda *args, **kwargs: None)


def _file(server) -> bytes:
    url = server.image("/s.jpg", product_jpeg(51))
    return csv_bytes(["sku,title,image_url,markets,aspect_ratios", f"S-1,Scarf,{url},us,1:1", "S-2,=1+1,x,us,1:1"])


def _login(client, membership):
    assert client.login(username=membership.user.username, password=PASSWORD)


def test_dashboard_upload_report_confirm(client, member, allow_server):
    _login(client, member)
    page = client.get(reverse("dashboard:import_list"))
    assert page.status_code == 200 and b"Catalogue import" in page.content
    upload = SimpleUploadedFile("cat.csv", _file(allow_server), content_type="text/csv")
    response = client.post(
        reverse("dashboard:import_list"), {"file": upload, "markets": ["us"], "seconds": 5, "resolution": "480p"}
    )
    imp = CatalogImport.objects.get(organization=member.organization)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:import_detail", args=[imp.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "formula_like_value" in detail and 'data-import-status="fetching"' in detail
    services.process_import(imp.pk)
    detail = client.get(response["Location"]).content.decode()
    assert 'data-import-status="ready"' in detail and "5 credits" in detail
    report = b"".join(client.get(reverse("dashboard:import_report", args=[imp.pk])).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(report.lstrip("\ufeff"))))
    assert rows[0] == ["row", "column", "code", "message", "image", "fix", "how to fix"]
    assert rows[1][:3] == ["3", "title", "formula_like_value"] and rows[1][5] == "edit_file"
    confirmed = client.post(reverse("dashboard:import_confirm", args=[imp.pk]))
    batch = Batch.objects.get(organization=member.organization)
    assert confirmed["Location"] == reverse("dashboard:batch_detail", args=[batch.pk])
    assert Job.objects.filter(batch=batch).count() == 1


def test_dashboard_other_org_gets_404_everywhere(client, member, allow_server):
    imp = services.stage_import(organization=member.organization, csv_upload=_file(allow_server))
    services.process_import(imp.pk)
    stranger = MembershipFactory()
    _login(client, stranger)
    for name, method in [
        ("import_detail", "get"),
        ("import_report", "get"),
        ("import_confirm", "post"),
        ("import_recheck", "post"),
        ("import_discard", "post"),
    ]:
        response = getattr(client, method)(reverse(f"dashboard:{name}", args=[imp.pk]))
        assert response.status_code == 404, name
    assert b"cat" not in client.get(reverse("dashboard:import_list")).content.split(b"<table")[-1]
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.READY and not Batch.objects.exists()


def test_viewer_cannot_confirm(client, allow_server):
    viewer = MembershipFactory(role="viewer")
    imp = services.stage_import(organization=viewer.organization, csv_upload=_file(allow_server))
    services.process_import(imp.pk)
    _login(client, viewer)
    assert client.post(reverse("dashboard:import_confirm", args=[imp.pk])).status_code == 403
    assert not Batch.objects.exists()


def test_api_upload_retrieve_report_confirm_and_tenancy(allow_server):
    org = OrganizationFactory()
    _key, secret = create_api_key(organization=org, name="t")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    data = _file(allow_server)
    created = api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("c.csv", data), "markets": "us"}, format="multipart"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "fetching" and body["rows_invalid"] == 1
    assert body["issues"][0] == {
        "row": 3,
        "column": "title",
        "code": "formula_like_value",
        "message": body["issues"][0]["message"],
        "image": None,
        "fix": "edit_file",
        "zip_name": None,
    }
    again = api.post("/api/v1/imports", {"file": SimpleUploadedFile("c.csv", data)}, format="multipart")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    early = api.post(f"/api/v1/imports/{body['id']}/confirm")
    assert early.status_code == 409 and early.json()["error"]["code"] == "import_not_ready"
    services.process_import(body["id"])
    ready = api.get(f"/api/v1/imports/{body['id']}").json()
    assert ready["status"] == "ready" and ready["estimate"] == {"credits": 5, "videos": 1}
    report = api.get(f"/api/v1/imports/{body['id']}/report")
    assert report.status_code == 200 and b"formula_like_value" in b"".join(report.streaming_content)

    other = OrganizationFactory()
    _k2, secret2 = create_api_key(organization=other, name="t2")
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {secret2}")
    for method, path in [
        ("get", f"/api/v1/imports/{body['id']}"),
        ("get", f"/api/v1/imports/{body['id']}/report"),
        ("post", f"/api/v1/imports/{body['id']}/confirm"),
    ]:
        response = getattr(stranger, method)(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.get("/api/v1/imports").json()["results"] == []

    confirmed = api.post(f"/api/v1/imports/{body['id']}/confirm")
    assert confirmed.status_code == 201 and confirmed.json()["job_count"] == 1
    assert api.post(f"/api/v1/imports/{body['id']}/confirm").json()["id"] == confirmed.json()["id"]


def test_api_bad_options_are_a_400_with_fields(allow_server):
    org = OrganizationFactory()
    _key, secret = create_api_key(organization=org, name="t")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("c.csv", b"sku,title\n"), "markets": "mars"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_import" and "markets" in response.json()["error"]["fields"]


def test_insufficient_credits_at_confirm_creates_nothing(allow_server):
    org = OrganizationFactory(credits=0)
    imp = services.stage_import(organization=org, csv_upload=_file(allow_server))
    services.process_import(imp.pk)
    with pytest.raises(services.ImportNotConfirmable) as err:
        services.confirm_import(catalog_import=imp)
    assert err.value.code == "insufficient_credits"
    assert not Product.objects.filter(organization=org).exists() and not Batch.objects.exists()
    imp.refresh_from_db()
    assert imp.status == CatalogImport.Status.READY


def test_management_command(allow_server, tmp_path):
    org = OrganizationFactory(slug="cmd-shop")
    path = tmp_path / "cat.csv"
    path.write_bytes(_file(allow_server))
    out = io.StringIO()
    call_command("import_catalog", str(path), "--org", "cmd-shop", "--confirm", stdout=out)
    text = out.getvalue()
    assert "formula_like_value" in text and "1 valid, 1 with errors" in text and "batch" in text
    call_command("import_catalog", str(path), "--org", "cmd-shop", "--confirm", stdout=io.StringIO())
    assert Product.objects.filter(organization=org).count() == 1
    assert Job.objects.filter(organization=org).count() == 1


def test_management_command_takes_the_video_options_and_prices_them(allow_server, tmp_path):
    org = OrganizationFactory(slug="cmd-options")
    path = tmp_path / "cat.csv"
    path.write_bytes(_file(allow_server))
    refused = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_catalog", str(path), "--org", "cmd-options", "--caption-price", "--confirm", stdout=refused
        )
    assert "caption_options" in refused.getvalue() and "confirming makes" not in refused.getvalue()
    assert not Job.objects.filter(organization=org).exists()

    out = io.StringIO()
    call_command(
        "import_catalog",
        str(path),
        "--org",
        "cmd-options",
        "--platform",
        "amazon",
        "--captions",
        "--confirm",
        stdout=out,
    )
    assert "confirming makes 1 video(s) for 5 credits" in out.getvalue()
    assert set(Job.objects.filter(organization=org).values_list("platform", "captions")) == {("amazon", True)}
