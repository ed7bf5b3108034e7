"""Production settings: the shared settings plus what `manage.py check --deploy` asks for, and refusals.

DJANGO_SETTINGS_MODULE=shop_video.settings_production. Required from the environment: DJANGO_SECRET_KEY (50+
random characters), DJANGO_ALLOWED_HOSTS, DATABASE_URL (PostgreSQL), REDIS_URL. HTTPS only (redirect,
HSTS, secure cookies) except the probes (/healthz, /readyz, /metrics: SECURE_REDIRECT_EXEMPT). Logs are JSON
lines unless LOG_FORMAT says otherwise. Settings meant for tests only are refused at start-up. Content credentials:
SHOPVIDEO_C2PA_CERT_CHAIN and SHOPVIDEO_C2PA_PRIVATE_KEY (not the development chain) unless SHOPVIDEO_C2PA_ENABLED
is false.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("LOG_FORMAT", "json")

from .settings import *  # noqa: F403
from .settings import DATABASES, SHOPVIDEO_C2PA_ENABLED, env


def _require(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value


DEBUG = False
SECRET_KEY = _require("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a random production key of 50+ characters")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the production host names")
_require("REDIS_URL")
# Links in emails must lead to the real site, over HTTPS (the development default is localhost).
SHOPVIDEO_SITE_URL = _require("SHOPVIDEO_SITE_URL")
if not SHOPVIDEO_SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SHOPVIDEO_SITE_URL must be the site's https:// address (links in emails use it)")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL in production")

# Test-only switches: a production process that sees them refuses to start.
for _name in ("SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST", "STRIPE_API_BASE"):
    if env(_name, default=""):
        raise ImproperlyConfigured(f"{_name} is for tests only and must not be set in production")

# Content credentials are signed with a configured certificate, never the development chain. A process that signs
# nothing (web) may set SHOPVIDEO_C2PA_ENABLED=false and then holds no signing key.
if SHOPVIDEO_C2PA_ENABLED:
    from generation.pipeline.credentials import is_development_chain

    _require("SHOPVIDEO_C2PA_PRIVATE_KEY")
    try:
        _c2pa_dev = is_development_chain(Path(_require("SHOPVIDEO_C2PA_CERT_CHAIN")).read_bytes())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"SHOPVIDEO_C2PA_CERT_CHAIN is not a readable PEM certificate chain: {exc}") from exc
    if _c2pa_dev:
        raise ImproperlyConfigured("SHOPVIDEO_C2PA_CERT_CHAIN is the development chain; configure a real certificate")

# HTTPS everywhere; TLS ends at the proxy, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Upload limits: the request body of a form (photos are spooled to disk beyond the memory limit; the photo checks
# in generation.pipeline.ingest refuse files over their own limit), and the number of files per request.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_FILE_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DJANGO_DATA_UPLOAD_MAX_NUMBER_FILES", default=50)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
