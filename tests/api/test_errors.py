"""The one error format everywhere: unknown paths, trailing slashes, methods, content negotiation."""

from __future__ import annotations

import pytest

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v1/products/", "/api/v1/jobs/1/", "/api/v1", "/api/v2/products", "/api/"]
)
def test_unknown_api_paths_are_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert error_of(response)["code"] == "not_found"


def test_unknown_paths_are_404_without_a_key_too(db):
    response = client_for(None).get("/api/v1/nothing")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_method_not_allowed(api):
    response = api.put("/api/v1/jobs", {}, format="json")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_not_acceptable(api):
    response = api.get("/api/v1/products", HTTP_ACCEPT="text/html")
    assert response.status_code == 406 and error_of(response)["code"] == "not_acceptable"


def test_an_unexpected_error_is_a_json_500_and_logged(api, monkeypatch, caplog):
    from shop_video.api.views import batches as views

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(views.selectors, "batches_for", boom)
    response = api.get("/api/v1/batches")
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    assert "bug" not in response.content.decode()
    assert any("unhandled error" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products",
        "/api/v1/photos",
        "/api/v1/markets",
        "/api/v1/scenes",
        "/api/v1/jobs",
        "/api/v1/batches",
        "/api/v1/videos",
    ],
)
@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"page_size": "0"}, {"page_size": "1e9"}])
def test_every_list_refuses_bad_paging(api, path, params):
    response = api.get(path, params)
    assert response.status_code == 400, (path, params)
    assert error_of(response)["code"] in {"invalid_cursor", "invalid_page_size"}
