"""Rate limits per API key (DRF throttle on Django's cache: Redis when REDIS_URL is set, else local memory).

The rate is SHOPVIDEO_API_THROTTLE_RATE ("600/min" by default; DRF's "N/s|min|hour|day" format), read on every
request so that tests and operators can change it. Over the limit: 429 with Retry-After. If the cache is down
the request is let through (logged): an outage of the rate limiter must not take the API down with it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from shop_video.merchants.models import ApiKey

logger = logging.getLogger("shop_video.api")


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self):
        return getattr(settings, "SHOPVIDEO_API_THROTTLE_RATE", "600/min") or None

    def get_cache_key(self, request, view):
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return None
        # The key's hash, not its row id: ids restart in every test database, hashes never repeat.
        return f"throttle:api:{api_key.key_hash[:32]}"

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("rate limiter unavailable; letting the request through", exc_info=True)
            return True
