"""Crafted cursors and ids are bad input, never a 500: every cursor-paginated list and every id parameter of the
API, found in the OpenAPI schema (a new endpoint is covered without editing this file)."""

from __future__ import annotations

import base64

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from shop_video.api.pagination import ApiCursorPagination
from tests.factories import JobFactory, PhotoFactory, ProductFactory

from .conftest import error_of, make_video

pytestmark = pytest.mark.django_db


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# Bad for every list, whatever it is ordered by.
BAD_CURSORS = {
    "the probe's r=1&p=\"": "cj0xJnA9Ig==",
    "not base64": "%%%not-base64%%%",
    "base64 of binary, not UTF-8": _b64(b"\xff\xfe\x00\x81"),
    "p=utf-8 but not ascii": _b64("p=é".encode()),
    "p=a float": _b64(b"p=1.5"),
    "p=a NUL": _b64(b"p=%00"),
    "p=empty": _b64(b"p="),
    "o=a word": _b64(b"o=x&p=1"),
    "o=negative": _b64(b"o=-5&p=1"),
    "r=a word": _b64(b"r=yes&p=1"),
}
# Bad where the position is an id (a slug-ordered list may well have a slug "abc" or "1e3").
BAD_ID_CURSORS = {
    "p=a word": _b64(b"p=abc"),
    "p=an exponent": _b64(b"p=1e3"),
    "p=2**63": _b64(f"p={2**63}".encode()),
    "p=10**20": _b64(f"p={10**20}".encode()),
    "p=-2**64": _b64(f"p={-(2**64)}".encode()),
}

BAD_IDS = [str(2**63), "-1", str(10**20), "1e3", "abc", str(-(2**63) - 1)]


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, dict]]:
    return [
        (path, method, op)
        for path, item in _schema()["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _list_paths() -> list[str]:
    """GET operations that answer a cursor page (next, previous, results), whatever parameters they document."""
    schema = _schema()
    found = []
    for path, item in schema["paths"].items():
        ok = item.get("get", {}).get("responses", {}).get("200", {})
        body = _resolve(schema, ok.get("content", {}).get("application/json", {}).get("schema", {}))
        if {"next", "previous", "results"} <= set(body.get("properties", {})):
            found.append(path)
    return sorted(found)


def _is_id(param: dict) -> bool:
    schema = param.get("schema", {})
    return param["in"] in ("path", "query") and (
        schema.get("type") == "integer" or param["name"] in ("id", "pk") or param["name"].endswith("_id")
    )


def _id_parameters() -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) for every integer id in a path or a query string."""
    found = []
    for path, method, op in _operations():
        for param in op.get("parameters", []):
            if _is_id(param) and param["name"] != "page_size":
                found.append((method, path, param["in"], param["name"]))
    return sorted(found)


@pytest.fixture
def with_data(org):
    product = ProductFactory(organization=org)
    photo = PhotoFactory(product=product)
    make_video(JobFactory(photo=photo))
    return org


def test_the_schema_has_the_lists_and_ids_this_file_walks():
    lists = _list_paths()
    assert {"/api/v1/jobs", "/api/v1/markets", "/api/v1/webhook-endpoints", "/api/v1/webhook-deliveries"} <= set(lists)
    ids = _id_parameters()
    assert ("get", "/api/v1/jobs/{id}", "path", "id") in ids
    assert ("get", "/api/v1/jobs", "query", "batch") in ids
    assert _ordered_by_id("/api/v1/jobs") and _ordered_by_id("/api/v1/webhook-deliveries")
    assert not _ordered_by_id("/api/v1/markets")


def test_every_list_documents_its_cursor():
    operations = {(path, method): op for path, method, op in _operations()}
    for path in _list_paths():
        names = {p["name"] for p in operations[(path, "get")].get("parameters", [])}
        assert {"cursor", "page_size"} <= names, path


def _ordered_by_id(path: str) -> bool:
    view = resolve(path).func
    paginator = getattr(getattr(view, "cls", None), "pagination_class", None) or ApiCursorPagination
    return paginator.ordering.lstrip("-") in ("id", "pk")


@pytest.mark.parametrize("path", _list_paths())
def test_every_cursor_list_refuses_every_bad_cursor(api, with_data, path):
    bad = {**BAD_CURSORS, **(BAD_ID_CURSORS if _ordered_by_id(path) else {})}
    for label, cursor in bad.items():
        response = api.get(path, {"cursor": cursor})
        assert response.status_code == 400, (label, response.status_code, response.content[:300])
        assert error_of(response)["code"] == "invalid_cursor", label


@pytest.mark.parametrize("path", _list_paths())
def test_a_good_cursor_still_pages(api, with_data, path):
    first = api.get(path, {"page_size": 1})
    assert first.status_code == 200
    nxt = first.json()["next"]
    if nxt is not None:
        assert api.get(nxt).status_code == 200


def test_the_probe_cursor_on_jobs(api, with_data):
    response = api.get("/api/v1/jobs?cursor=cj0xJnA9Ig==")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_cursor"


@pytest.mark.parametrize(("method", "path", "where", "name"), _id_parameters())
def test_every_id_parameter_refuses_out_of_range_values(api, with_data, method, path, where, name):
    for value in BAD_IDS:
        if where == "path":
            url, query = path.replace("{" + name + "}", value), {}
        else:
            url, query = path.replace("{id}", "1"), {name: value}
        if method == "get":
            response = api.get(url, query)
        else:
            response = getattr(api, method)(url + ("?" + "&".join(f"{k}={v}" for k, v in query.items())), {})
        assert response.status_code in (400, 404), (method, url, name, value, response.status_code)
        error_of(response)
