"""End-to-end fixtures: Debian's Chromium through Playwright (never `playwright install`), a live server, and the
real Redis broker and Celery worker of the integration tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls of the test are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.integration.conftest import broker, clean_broker, start_worker  # noqa: F401 — re-exported fixtures

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


@contextlib.contextmanager
def chromium_context(playwright_driver, viewport: dict) -> Iterator:
    """Debian's Chromium with a fresh profile (its own user-data-dir), English, removed afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="sv-chromium-"))
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=ARGS,
        headless=True,
        locale="en-US",
        viewport=viewport,
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser_context(playwright_driver, request) -> Iterator:
    """A fresh Chromium profile per test, English unless the test asks otherwise."""
    marker = request.node.get_closest_marker("viewport")
    with chromium_context(playwright_driver, marker.args[0] if marker else {"width": 1280, "height": 900}) as context:
        yield context


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser_context, request) -> Iterator:
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # checked by the tests: a script error on any page fails them
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # What the browser showed when the test failed, for whoever reads the failure.
        folder = Path(settings.VAR_DIR) / "e2e-failures"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / request.node.name
        try:
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content())
        except Exception as exc:  # the page may be gone; the failure itself matters more
            Path(f"{stem}.txt").write_text(repr(exc))


@pytest.fixture
def screens_dir() -> Path:
    """Screenshots land under var/ (git-ignored); `make screens` copies them to docs/screens/."""
    folder = Path(settings.VAR_DIR) / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
