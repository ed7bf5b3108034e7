"""Billing fixtures: a real localstripe server on a free port (a subprocess, stopped at the end) and helpers to sign
webhook events with the test webhook secret, exactly as Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.factories import ensure_presets

SECRET_KEY = "sk_test_h10_localstripe"  # localstripe accepts any sk_test_ key; never a real key
WEBHOOK_SECRET = "whsec_test_h10"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe():
    exe = Path(sys.executable).with_name("localstripe")
    port = _free_port()
    proc = subprocess.Popen(
        [str(exe), "--port", str(port), "--from-scratch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def stripe_on(settings, localstripe):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_h10_localstripe"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe
    settings.STRIPE_JS_URL = f"{localstripe}/js.stripe.com/v3/"
    return localstripe


def localstripe_post(base: str, path: str, data: dict) -> int:
    req = urllib.request.Request(base + path, method="POST", data=urllib.parse.urlencode(data).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


@pytest.fixture
def presets():
    ensure_presets()


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_id: str, event_type: str, obj: dict) -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()), "data": {"object": obj}}
    ).encode()


def post_event(client, payload: bytes, signature: str | None = None):
    return client.post(
        "/billing/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature if signature is not None else sign(payload),
    )


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a signed event to the webhook and run its after-commit fulfilment (non-transactional tests)."""

    def send(payload: bytes, signature: str | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return post_event(client, payload, signature)

    return send
