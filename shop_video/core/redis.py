"""A redis-py client for the Celery broker's Redis (metrics, GPU telemetry, throttles)."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from django.conf import settings


def redis_client(url: str | None = None, timeout: float = 1.0):
    """A client for `url` (default: the Celery broker URL), including the embedded `redis+socket://` form."""
    import redis

    url = url or settings.CELERY_BROKER_URL
    parsed = urlparse(url)
    if parsed.scheme in ("redis+socket", "socket"):
        path = unquote(parsed.netloc + parsed.path)
        return redis.Redis(unix_socket_path=path, socket_timeout=timeout, socket_connect_timeout=timeout)
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
