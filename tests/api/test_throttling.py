"""Throttling per API key: 429 with Retry-After and the error body; other keys are not affected."""

from __future__ import annotations

import pytest

from shop_video.merchants.api_keys import create_api_key

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db


def test_over_the_rate_is_429_with_retry_after(settings, api, org):
    settings.SHOPVIDEO_API_THROTTLE_RATE = "3/min"
    assert [api.get("/api/v1/batches").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/v1/batches")
    assert response.status_code == 429
    assert error_of(response)["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another key of the same organization has its own budget.
    other = client_for(create_api_key(organization=org)[1])
    assert other.get("/api/v1/batches").status_code == 200


def test_posts_count_too(settings, api, product):
    settings.SHOPVIDEO_API_THROTTLE_RATE = "2/min"
    statuses = [
        api.post("/api/v1/jobs/estimate", {"product": product.pk, "markets": ["us"]}, format="json").status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_cache_outage_lets_requests_through(settings, api, monkeypatch):
    settings.SHOPVIDEO_API_THROTTLE_RATE = "1/min"
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    assert [api.get("/api/v1/batches").status_code for _ in range(3)] == [200, 200, 200]
