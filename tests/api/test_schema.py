"""OpenAPI 3 at /api/v1/schema: valid, every operation documented with a summary, examples and its errors;
the docs pages beside it load nothing from outside (no CDN)."""

from __future__ import annotations

import re

import pytest
import yaml
from openapi_spec_validator import validate

from .conftest import client_for

pytestmark = pytest.mark.django_db

OURS = ("/api/v1/products", "/api/v1/photos", "/api/v1/markets", "/api/v1/scenes", "/api/v1/jobs", "/api/v1/batches",
        "/api/v1/videos", "/api/v1/audio")  # fmt: skip


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = client_for(None).get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json() if "json" in response["Content-Type"] else yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_path_has_no_trailing_slash(schema):
    assert schema["paths"]
    assert all(path.startswith("/api/v1/") and not path.endswith("/") for path in schema["paths"])


def _operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def test_our_endpoints_are_all_there(schema):
    expected = {
        ("/api/v1/products", "get"),
        ("/api/v1/products", "post"),
        ("/api/v1/products/{id}", "get"),
        ("/api/v1/products/{id}", "patch"),
        ("/api/v1/products/{id}", "delete"),
        ("/api/v1/photos", "get"),
        ("/api/v1/photos", "post"),
        ("/api/v1/photos/{id}", "get"),
        ("/api/v1/photos/{id}/mask", "post"),
        ("/api/v1/markets", "get"),
        ("/api/v1/markets/{slug}", "get"),
        ("/api/v1/scenes", "get"),
        ("/api/v1/scenes/{slug}", "get"),
        ("/api/v1/jobs", "get"),
        ("/api/v1/jobs", "post"),
        ("/api/v1/jobs/estimate", "post"),
        ("/api/v1/jobs/{id}", "get"),
        ("/api/v1/jobs/{id}/cancel", "post"),
        ("/api/v1/jobs/{id}/retry", "post"),
        ("/api/v1/batches", "get"),
        ("/api/v1/batches/{id}", "get"),
        ("/api/v1/batches/{id}/cancel", "post"),
        ("/api/v1/videos", "get"),
        ("/api/v1/videos/{id}", "get"),
        ("/api/v1/audio", "get"),
        ("/api/v1/audio", "post"),
        ("/api/v1/audio/{id}", "get"),
        ("/api/v1/audio/{id}", "delete"),
    }
    assert expected <= {(path, method) for path, method, _op in _operations(schema)}


def test_every_operation_has_a_summary_examples_security_and_errors(schema):
    for path, method, op in _operations(schema):
        if not path.startswith(OURS):
            continue
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert op.get("security") == [{"ApiKey": []}], where
        responses = op["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, where
        for code in success:
            content = responses[code].get("content")
            if content:  # 204 has none
                media = content["application/json"]
                assert media.get("examples") or media.get("example"), f"{where} {code}: no example"
        for code in ("401", "429"):
            assert responses[code]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
        assert "Retry-After" in responses["429"]["headers"]
        if "{" in path:
            assert "404" in responses, where
        if "requestBody" in op:
            assert "400" in responses, where
            for media in op["requestBody"]["content"].values():
                assert media.get("examples") or media.get("example"), f"{where}: no request example"


def test_creating_posts_document_the_idempotency_key(schema):
    for path in ("/api/v1/products", "/api/v1/photos", "/api/v1/jobs", "/api/v1/audio"):
        op = schema["paths"][path]["post"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"]), path
        assert {"409", "422"} <= set(op["responses"]), path


def test_the_bearer_scheme(schema):
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "sv_live_…",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }


def test_the_docs_page_loads_nothing_from_outside():
    client = client_for(None)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    for source in sources:  # our own static files and the split view's script: all served here
        assert client.get(source).status_code == 200, source
