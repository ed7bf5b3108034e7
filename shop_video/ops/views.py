"""Probes and metrics. /healthz: the process answers. /readyz: database, broker and storage reachable (503 and
which one failed otherwise). Both exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT), no login, no cache."""

from __future__ import annotations

import hmac
import logging
import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .drain import is_draining
from .metrics import redis_client

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    client = redis_client(timeout=float(getattr(settings, "SHOPVIDEO_READYZ_TIMEOUT", 2.0)))
    try:
        client.ping()
    finally:
        client.close()


def check_storage() -> None:
    # A read-only probe: listing the root works for local disk and S3 alike and writes nothing.
    default_storage.listdir("")


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    if is_draining():  # SIGTERM received (shop_video/gunicorn_conf.py): finishing in-flight requests only
        return JsonResponse({"status": "draining", "checks": {}}, status=503)
    results: dict[str, dict[str, object]] = {}
    ready = True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:
            ready = False
            logger.warning("readyz: %s unavailable: %s", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """django-prometheus' exporter, behind a bearer token when SHOPVIDEO_METRICS_TOKEN is set."""
    from django_prometheus.exports import ExportToDjangoView

    token = getattr(settings, "SHOPVIDEO_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    return ExportToDjangoView(request)
