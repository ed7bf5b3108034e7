"""Model looks are only for the DiT engine: the compositor draws no person, so the API refuses looks with it
(400 look_needs_dit) before anything is priced or reserved."""

from __future__ import annotations

import json

import pytest

from billing import selectors as billing_selectors
from generation.models import Batch, Job

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db


def _post(api, path: str, body: dict):
    return api.post(path, json.dumps(body), content_type="application/json")


def _body(product, **change) -> dict:
    return {"product": product.pk, "markets": ["us"], "aspect_ratios": ["1:1"], "model_looks": ["active"], **change}


def test_jobs_with_a_look_and_the_compositor_are_refused_and_nothing_is_reserved(api, org, product):
    before = billing_selectors.credits_for(org)
    ledger_rows = billing_selectors.ledger_for(org).count()

    response = _post(api, "/api/v1/jobs", _body(product, engine="compositor"))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "look_needs_dit" and "model_looks" in error["fields"]
    assert billing_selectors.credits_for(org) == before
    assert billing_selectors.ledger_for(org).count() == ledger_rows
    assert not Batch.objects.exists() and not Job.objects.exists()


def test_the_default_engine_is_the_compositor_so_a_look_alone_is_refused(api, product):
    response = _post(api, "/api/v1/jobs", _body(product))
    assert response.status_code == 400 and error_of(response)["code"] == "look_needs_dit"


def test_the_estimate_refuses_a_look_with_the_compositor(api, product):
    response = _post(api, "/api/v1/jobs/estimate", _body(product, engine="compositor"))
    assert response.status_code == 400 and error_of(response)["code"] == "look_needs_dit"


def test_the_estimate_prices_a_look_with_the_dit_engine(api, product):
    response = _post(api, "/api/v1/jobs/estimate", _body(product, engine="dit"))
    assert response.status_code == 200, response.content
    assert response.json()["videos"] == 2  # the product's two photos × one look × one format


def test_the_schema_documents_look_needs_dit(db):
    schema = client_for(None).get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/v1/jobs", "/api/v1/jobs/estimate"):
        bad_input = schema["paths"][path]["post"]["responses"]["400"]
        assert "look_needs_dit" in bad_input["description"], path
    looks = schema["components"]["schemas"]["JobRequestRequest"]["properties"]["model_looks"]
    assert "look_needs_dit" in looks["description"]
