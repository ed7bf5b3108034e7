"""Small overrides for the test suite; everything else is the real settings module."""

import os
import secrets

# A secret key made for this test run, never written anywhere: the processes the tests start (workers, servers)
# inherit it through the environment, and a server started with these settings alone gets a key nobody knows.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-run-" + secrets.token_urlsafe(48))

# Under pytest-xdist (PYTEST_XDIST_WORKER = gw0, gw1, …) each test process gets its own Redis database number (the
# broker's queues, the cache) next to the one REDIS_URL names; the processes the tests start inherit the shifted
# URL and the marker, so it is shifted once. An embedded Redis (a unix socket, no REDIS_URL) is the test process's
# own already. pytest-django gives each process its own test database.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER and not os.environ.get("SHOPVIDEO_TEST_REDIS_SHIFTED"):
    from urllib.parse import urlsplit, urlunsplit

    _url = urlsplit(os.environ.get("REDIS_URL", ""))
    if _url.scheme in ("redis", "rediss"):
        _db = int(_url.path.strip("/") or 0) + int(_XDIST_WORKER.removeprefix("gw"))
        os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))
    os.environ["SHOPVIDEO_TEST_REDIS_SHIFTED"] = "1"

from .settings import *  # noqa: E402, F403
from .settings import CACHES, DATABASES, STATIC_ROOT, VAR_DIR, env  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
_SUFFIX = f"-{_XDIST_WORKER}" if _XDIST_WORKER else ""
MEDIA_ROOT = VAR_DIR / f"test-media{_SUFFIX}"
SHOPVIDEO_WORK_DIR = VAR_DIR / f"test-work{_SUFFIX}"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests that start a worker process need a test database that other processes can open: a file for SQLite.
# TEST_DATABASE_NAME lets parallel runs on one PostgreSQL server keep apart.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=str(VAR_DIR / "test-db.sqlite3"))}
else:
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_shopvideo")}

# WhiteNoise warns on every request when STATIC_ROOT is missing; the tests serve static files from the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Login failures and sign-ups are counted per client address, and every test client is 127.0.0.1: the counts live
# in their own in-process cache that tests/conftest.py empties before each test (live servers run in-process).
CACHES = {**CACHES, "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}}
AXES_CACHE = SHOPVIDEO_THROTTLE_CACHE = "throttle"
SILENCED_SYSTEM_CHECKS = ["axes.W001"]
