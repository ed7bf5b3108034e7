"""/api/v1/markets and /api/v1/scenes: read-only presets; an organization's own model looks stay its own."""

from __future__ import annotations

import pytest

from generation.presets import MARKETS_BY_SLUG
from tests.factories import ModelLookFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db


def test_list_markets(api):
    body = api.get("/api/v1/markets", {"page_size": 200}).json()
    slugs = [m["slug"] for m in body["results"]]
    assert slugs == sorted(MARKETS_BY_SLUG) and body["next"] is None
    us = next(m for m in body["results"] if m["slug"] == "us")
    assert us["currency"] == "USD" and us["scenes"] and us["aspect_ratios"]


def test_markets_page_by_cursor(api):
    first = api.get("/api/v1/markets", {"page_size": 5}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 5 and first["results"][-1]["slug"] < second["results"][0]["slug"]


def test_retrieve_market(api):
    body = api.get("/api/v1/markets/de").json()
    assert body["slug"] == "de" and body["currency"] == "EUR"
    assert body["scenes"][0] == MARKETS_BY_SLUG["de"].scenes[0]


def test_unknown_market_is_404(api):
    response = api.get("/api/v1/markets/zz")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_own_model_looks_are_visible_only_to_their_org(api, org, other_api, other_org):
    ModelLookFactory(organization=org, slug="our-look")
    ModelLookFactory(organization=other_org, slug="their-look")
    mine = {look["slug"]: look for look in api.get("/api/v1/markets/us").json()["model_looks"]}
    theirs = {look["slug"] for look in other_api.get("/api/v1/markets/us").json()["model_looks"]}
    assert mine["our-look"]["own"] is True and "their-look" not in mine
    assert "their-look" in theirs and "our-look" not in theirs


def test_list_and_retrieve_scenes(api):
    body = api.get("/api/v1/scenes").json()
    slugs = [s["slug"] for s in body["results"]]
    assert "studio-sweep" in slugs and slugs == sorted(slugs)
    scene = api.get("/api/v1/scenes/studio-sweep").json()
    assert scene["style"] == "studio" and scene["palette"]


def test_unknown_scene_is_404(api):
    response = api.get("/api/v1/scenes/nope")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_presets_are_read_only(api, method):
    response = getattr(api, method)("/api/v1/markets/us", {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]
