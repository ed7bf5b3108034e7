"""Out-of-range and malformed ids in the pages' paths and query strings are a 400 or 404, never a 500: every URL
pattern that takes an id (found in the URL conf, so a new page is covered without editing this file), and the
query parameters that carry ids. The API's ids are walked from its schema in tests/api/test_crafted_input.py."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory, ensure_presets
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db

BAD_IDS = [str(2**63), "-1", str(10**20), "1e3", "abc", "0", "9" * 400]
SKIP_PREFIXES = ("/api/", "/admin/")  # the API has its own walk; the admin is Django's
# Query parameters that name objects by id (they are not in the URL conf): (method, url name, parameter).
QUERY_IDS = [
    ("get", "dashboard:video_zip", "video"),
    ("post", "dashboard:estimate", "photos"),
    ("get", "webhooks:delivery_list", "endpoint"),
]


def id_routes() -> list[str]:
    """Every page route with an id converter, as a template with `{id}` where the id goes."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith(SKIP_PREFIXES) or not any(
                    isinstance(c, IntConverter) for c in entry.pattern.converters.values()
                ):
                    continue
                route = re.sub(r"<int:\w+>", "{id}", route)
                routes.append(re.sub(r"<(?:\w+:)?\w+>", "x", route))  # other converters (a language, a token)

    walk(get_resolver().url_patterns, "/")
    return sorted(routes)


@pytest.fixture
def owner_client(client):
    ensure_presets()
    member = MembershipFactory()
    photo = PhotoFactory(product=ProductFactory(organization=member.organization))
    make_video(JobFactory(photo=photo))
    client.force_login(member.user)
    return client


def test_the_walk_finds_the_pages_with_ids():
    routes = id_routes()
    assert {"/videos/{id}/", "/imports/{id}/recheck/", "/webhooks/deliveries/{id}/", "/files/videos/{id}/"} <= set(
        routes
    )
    assert "/billing/payments/{id}/" in routes


@pytest.mark.parametrize("route", id_routes())
def test_every_page_with_an_id_refuses_bad_ids(owner_client, route):
    for value in BAD_IDS:
        url = route.replace("{id}", value)
        for method in ("get", "post"):
            response = getattr(owner_client, method)(url)
            # 405: the page does not take this method at all (checked before the id).
            assert response.status_code in (400, 404, 405), (method, url, response.status_code)


@pytest.mark.parametrize(("method", "name", "parameter"), QUERY_IDS)
def test_every_id_query_parameter_refuses_bad_ids(owner_client, method, name, parameter):
    for value in BAD_IDS:
        response = getattr(owner_client, method)(reverse(name), {parameter: value})
        assert response.status_code in (400, 404), (name, parameter, value, response.status_code)


def test_the_probe_zip_download(owner_client):
    response = owner_client.get("/videos/zip/?video=99999999999999999999")
    assert response.status_code == 404
