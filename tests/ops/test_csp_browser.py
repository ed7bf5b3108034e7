"""The CSP in a real browser: Chromium loads the main pages of a signed-in merchant from a live server and reports
no Content Security Policy violation (the policy would block htmx, the app's script or its styles otherwise)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from generation.models import Job
from tests.factories import PASSWORD, JobFactory, MembershipFactory, PhotoFactory, ensure_presets

from .conftest import make_video

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every violation is reported to the page as an event; the init script runs outside the page's CSP.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = e.sourceFile + ':' + e.lineNumber;
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' @' + where);
});
"""


@pytest.fixture
def chromium(playwright_driver) -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    profile = Path(tempfile.mkdtemp(prefix="sv-chromium-"))
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, headless=True, locale="en-US"
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


def test_main_pages_log_no_csp_violation(chromium, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ensure_presets()
    member = MembershipFactory()
    org = member.organization
    photo = PhotoFactory(product__organization=org)
    running = JobFactory(photo=photo, state=Job.State.RUNNING, progress=0.4, attempt=1)
    video = make_video(JobFactory(photo=photo, batch=running.batch, state=Job.State.SUCCEEDED, attempt=1))

    page = chromium.pages[0] if chromium.pages else chromium.new_page()
    page.add_init_script(LISTEN)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", member.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")

    urls = [
        reverse("dashboard:home"),
        reverse("dashboard:product_list"),
        reverse("dashboard:product_create"),
        reverse("dashboard:product_detail", args=[photo.product_id]),
        reverse("dashboard:batch_list"),
        reverse("dashboard:batch_detail", args=[running.batch_id]),
        reverse("dashboard:video_list"),
        reverse("dashboard:video_detail", args=[video.pk]),
        reverse("billing:overview"),
        reverse("billing:usage"),
    ]
    seen: dict[str, list[str]] = {}
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response is not None and response.status == 200, (url, response and response.status)
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__cspViolations")
        if violations:
            seen[url] = violations
    assert not seen, seen
    assert not console, console
    # htmx really loaded under the policy (a blocked script would leave it undefined).
    assert page.evaluate("typeof window.htmx") == "object"
