"""An import's estimate and confirm take model looks for every row, and refuse them with the compositor
(400 look_needs_dit): nothing confirmed, nothing reserved."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from billing import selectors as billing_selectors
from generation import services as gen_services
from generation.imports import services
from generation.models import Batch, CatalogImport, Product
from shop_video.merchants.api_keys import create_api_key
from tests.factories import OrganizationFactory
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(gen_services.dispatch, "_send", lambda *args, **kwargs: None)


def _ready_import(server, engine: str):
    """A processed import of one valid row through the API; returns (client, organization, import id)."""
    org = OrganizationFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_api_key(organization=org, name='t')[1]}")
    url = server.image("/s.jpg", product_jpeg(52))
    data = csv_bytes(["sku,title,image_url,markets,aspect_ratios", f"S-1,Scarf,{url},us,1:1"])
    created = api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("c.csv", data), "engine": engine}, format="multipart"
    )
    assert created.status_code == 201, created.content
    services.process_import(created.json()["id"])
    return api, org, created.json()["id"]


def _post(api, path: str, body: dict):
    return api.post(path, json.dumps(body), content_type="application/json")


def test_the_estimate_refuses_looks_with_the_compositor(allow_server):
    api, _org, pk = _ready_import(allow_server, "compositor")
    response = _post(api, f"/api/v1/imports/{pk}/estimate", {"model_looks": ["active"]})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "look_needs_dit" and "model_looks" in error["fields"]


def test_the_confirm_refuses_looks_with_the_compositor_and_reserves_nothing(allow_server):
    api, org, pk = _ready_import(allow_server, "compositor")
    before = billing_selectors.credits_for(org)

    response = _post(api, f"/api/v1/imports/{pk}/confirm", {"model_looks": ["active"]})

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "look_needs_dit"
    assert billing_selectors.credits_for(org) == before
    assert not Batch.objects.exists() and not Product.objects.filter(organization=org).exists()
    assert CatalogImport.objects.get(pk=pk).status == CatalogImport.Status.READY


def test_the_confirm_makes_videos_with_looks_on_the_dit_engine(allow_server):
    api, _org, pk = _ready_import(allow_server, "dit")
    response = _post(api, f"/api/v1/imports/{pk}/confirm", {"model_looks": ["active"]})
    assert response.status_code == 201, response.content
    batch = Batch.objects.get(pk=response.json()["id"])
    assert set(batch.jobs.values_list("engine", "look__slug")) == {("dit", "active")}
