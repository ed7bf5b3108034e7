"""Operations settings, applied at the end of shop_video/settings.py by `apply(globals())`, so that the shared
settings module stays small: metrics and CSP middleware, probes exempt from the HTTPS redirect, JSON logs with
the job on every line, data retention."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import environ

env = environ.Env()

PROBE_PATHS = [r"^healthz$", r"^readyz$", r"^metrics$"]


def _origin(url: str) -> str | None:
    parsed = urlparse(url or "")
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return f"{parsed.scheme}://{parsed.netloc}"
    return None


def content_security_policy(settings: dict[str, Any]) -> dict[str, Any]:
    """Scripts and style sheets from this origin only (htmx is self-hosted, no inline script); Stripe.js and its
    frames for the billing page. Inline `style` attributes stay allowed (style-src-attr): progress bars set their
    width there, and CSS cannot run script."""
    from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

    stripe = ["https://js.stripe.com"]
    stripe_api = ["https://api.stripe.com"]
    # Tests and demos point Stripe.js and its API at localstripe: allow exactly that origin too.
    for name, bucket in (("STRIPE_JS_URL", stripe), ("STRIPE_API_BASE", stripe_api)):
        origin = _origin(settings.get(name, ""))
        if origin and origin not in bucket:
            bucket.append(origin)
    extra_connect = env.list("SHOPVIDEO_CSP_CONNECT_SRC", default=[])
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            # A page that must inline a script marks it nonce="{{ request.csp_nonce }}" (the nonce is only sent
            # when a template asks for it).
            "script-src": [SELF, *stripe, NONCE],
            "style-src": [SELF],
            "style-src-attr": [UNSAFE_INLINE],
            "img-src": [SELF, "data:", "blob:"],
            "media-src": [SELF, "blob:"],
            "font-src": [SELF],
            "connect-src": [SELF, *stripe_api, *stripe, *extra_connect],
            "frame-src": [*stripe, "https://hooks.stripe.com"],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
        "REPORT_PERCENTAGE": 0,
    }


def apply(g: dict[str, Any]) -> None:
    g["INSTALLED_APPS"] = [*g["INSTALLED_APPS"], "django_prometheus", "csp", "shop_video.ops"]
    middleware = list(g["MIDDLEWARE"])
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    middleware.insert(security + 1, "csp.middleware.CSPMiddleware")
    g["MIDDLEWARE"] = [
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *middleware,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ]
    # Load balancers and kubelets probe over plain HTTP inside the network.
    g["SECURE_REDIRECT_EXEMPT"] = [*g.get("SECURE_REDIRECT_EXEMPT", []), *PROBE_PATHS]
    g["CONTENT_SECURITY_POLICY"] = content_security_policy(g)
    g["SECURE_CONTENT_TYPE_NOSNIFF"] = True
    g["SHOPVIDEO_METRICS_TOKEN"] = env("SHOPVIDEO_METRICS_TOKEN", default="")
    g["SHOPVIDEO_READYZ_TIMEOUT"] = env.float("SHOPVIDEO_READYZ_TIMEOUT", default=2.0)
    # Videos older than this are removed every night by the beat task below, or by `manage.py purge_old_videos`
    # (0 keeps them forever); SHOPVIDEO_VIDEO_RETENTION_BY_ORG="acme=90,trial-shop=7" overrides it per organization.
    g["SHOPVIDEO_VIDEO_RETENTION_DAYS"] = env.int("SHOPVIDEO_VIDEO_RETENTION_DAYS", default=0)
    g["SHOPVIDEO_VIDEO_RETENTION_BY_ORG"] = {
        slug: int(days) for slug, days in env.dict("SHOPVIDEO_VIDEO_RETENTION_BY_ORG", default={}).items()
    }
    g["SHOPVIDEO_VIDEO_PURGE_HOUR"] = env.int("SHOPVIDEO_VIDEO_PURGE_HOUR", default=3)  # UTC, a quiet hour
    g["CELERY_BEAT_SCHEDULE"] = {**g.get("CELERY_BEAT_SCHEDULE", {}), **beat_schedule(g["SHOPVIDEO_VIDEO_PURGE_HOUR"])}
    g["LOGGING"] = logging_config(g["LOGGING"], env("LOG_FORMAT", default="plain"))


def beat_schedule(purge_hour: int) -> dict[str, Any]:
    from celery.schedules import crontab

    return {
        "ops-purge-expired-videos": {
            "task": "ops.purge_expired_videos",
            "schedule": crontab(hour=purge_hour, minute=17),
            "options": {"expires": 3600.0},  # a missed night is caught up by the next one
        }
    }


def logging_config(base: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The job filter on every handler; LOG_FORMAT=json switches the console to one JSON object per line."""
    config = {**base}
    config["filters"] = {**base.get("filters", {}), "job": {"()": "shop_video.core.context.JobContextFilter"}}
    config["formatters"] = {
        **base.get("formatters", {}),
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(job_id)s %(organization_id)s %(attempt)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    }
    handlers = {}
    for name, handler in base.get("handlers", {}).items():
        handler = {**handler, "filters": [*handler.get("filters", []), "job"]}
        if fmt == "json":
            handler["formatter"] = "json"
        handlers[name] = handler
    config["handlers"] = handlers
    return config
