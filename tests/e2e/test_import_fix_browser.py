"""A merchant fixes an import in Chromium: the report shows the image URL that failed (cut to one line, complete in
its title) and how to fix it; a zip of that image and "Re-check failed rows" turn the row OK, and the row that
had passed keeps its staged photo."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from generation.imports import processing, services, stage
from generation.models import CatalogImport
from tests.e2e.test_languages import log_in
from tests.factories import MembershipFactory, ensure_presets
from tests.imports.conftest import csv_bytes, product_jpeg, zip_bytes

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

GONE_HOST = "images.closed-shop.test"
GONE_URL = f"https://{GONE_HOST}/products/2023/autumn/collection/wool-scarf-burgundy-large.jpg"


def test_the_report_shows_the_url_and_a_zip_turns_the_row_ok(page, live_server, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):  # the shop's old image host no longer exists (no network is used)
        if host == GONE_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    # The worker's service, run when the re-check commits (instead of through the broker): the page then shows
    # the result without waiting for a worker process.
    monkeypatch.setattr(stage, "enqueue_processing", processing.process_import)
    ensure_presets()
    member = MembershipFactory(user__username="ana@example.com", user__email="ana@example.com")
    imp = services.stage_import(
        organization=member.organization,
        csv_upload=csv_bytes(
            [
                "sku,title,image_url,image_file,markets,aspect_ratios",
                "W-1,Wool hat,,hat.jpg,us,1:1",
                f"W-2,Wool scarf,{GONE_URL},,us,1:1",
            ]
        ),
        zip_upload=zip_bytes({"hat.jpg": product_jpeg(71)}),
    )
    processing.process_import(imp.pk)
    hat = imp.rows.get(sku="W-1")
    assert hat.status == "valid"

    log_in(page, live_server.url, "ana@example.com")
    page.goto(f"{live_server.url}{reverse('dashboard:import_detail', args=[imp.pk])}")
    issue = page.locator("#import-issues tbody tr")
    assert issue.count() == 1
    assert issue.locator("td").nth(2).inner_text() == "host_not_found"
    url = issue.locator("code.truncate")
    assert url.get_attribute("title") == GONE_URL and url.inner_text() == GONE_URL
    assert url.evaluate("el => el.scrollWidth > el.clientWidth")  # cut on screen, whole in the page
    assert "wool-scarf-burgundy-large.jpg" in issue.locator("td").nth(5).inner_text()

    form = page.locator("#import-recheck-failed")
    assert form.is_visible() and "1 row failed because of its images" in form.inner_text()
    form.locator("input[type=file]").set_input_files(
        {
            "name": "fix.zip",
            "mimeType": "application/zip",
            "buffer": zip_bytes({"scarf/wool-scarf-burgundy-large.jpg": product_jpeg(72)}),
        }
    )
    form.get_by_role("button", name="Re-check failed rows").click()
    page.wait_for_load_state()
    assert page.locator("[data-import-status]").get_attribute("data-import-status") == "ready"
    assert page.get_by_text("No errors.").is_visible()
    assert page.locator("#import-recheck-failed").count() == 0
    assert page.get_by_text("2 products: 2 ready, 0 with errors").is_visible()

    imp.refresh_from_db()
    assert (imp.status, imp.rows_valid, imp.rows_invalid) == (CatalogImport.Status.READY, 2, 0)
    assert imp.rows.get(sku="W-1").photos == hat.photos  # the row that passed is as it was
    assert page.js_errors == []
