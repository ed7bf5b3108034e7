"""The 400, 403, 404 and 500 pages under the Content Security Policy in force: rendered by Django's real
handlers through the full middleware, every page gets the CSP header, and nothing on it needs what the policy
forbids (no <style> element, no style attribute, no inline script or event handler, style sheets and scripts
only from this origin), so a browser shows them as designed. Browser-free: the HTML is parsed here."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from shop_video.ops.conf import content_security_policy

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.error_urls")]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.stylesheets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in attrs:
            self.problems.append(f"style attribute on <{tag}>")
        self.problems += [f"{name} handler on <{tag}>" for name in attrs if name.startswith("on")]
        if tag == "script":
            src = attrs.get("src") or ""
            if not src:
                self._in_script = True
            elif not src.startswith("/"):
                self.problems.append(f"script from another origin: {src}")
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs.get("href") or "")
        for name in ("href", "src", "action"):
            if (attrs.get(name) or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/__errors__/400", 400), ("/__errors__/403", 403), ("/no-such-page/", 404), ("/__errors__/500", 500)],
)
def test_error_pages_need_nothing_the_csp_forbids(path, status, settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["style-src"] == ["'self'"] and "'unsafe-inline'" not in directives["script-src"]
    assert directives["default-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    page = _Page()
    page.feed(response.content.decode())
    assert page.problems == [], (path, page.problems)
    assert page.stylesheets, path  # styled by the site's own style sheet
    for href in page.stylesheets:
        assert href.startswith(settings.STATIC_URL) and finders.find(href.removeprefix(settings.STATIC_URL)), href


def test_the_policy_in_the_header_is_the_production_one(settings):
    production = content_security_policy({})["DIRECTIVES"]
    assert production["style-src"] == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    assert production["script-src"][:1] == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"][:1]
