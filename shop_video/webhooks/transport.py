"""Sending one webhook request safely: HTTPS only, no private addresses (SSRF), short timeouts, no redirects.

Addresses are judged by shop_video.outbound, the filter the image fetcher uses too: at registration for a URL
whose host is an address, and before every connect for every address the name resolves to.

The host name is resolved once, every address is checked, and the connection goes to the checked address
(TLS still verifies the certificate for the host name): a DNS answer that changes between the check and the
connect (rebinding) cannot reach an internal service. Redirects are never followed: a 3xx is a failed attempt,
so a receiver cannot bounce us into a private range either.

Tests need receivers on 127.0.0.1: the `SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST` setting lists such hosts. It is honoured
only under the test settings module (`shop_video.settings_test`); shop_video/settings.py refuses to start with it
set otherwise, and `manage.py check --deploy` reports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

from shop_video import outbound

TEST_SETTINGS_MODULE = "shop_video.settings_test"
RESPONSE_EXCERPT_BYTES = 1000


class DeliveryRefused(Exception):
    """The URL may not be called (scheme, private address, unresolvable): a failed attempt with `.code`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Response:
    status: int
    body_excerpt: str


def test_allowlist() -> frozenset[str]:
    """Hosts that may be plain HTTP on private addresses; empty outside the test settings, whatever is set."""
    hosts = getattr(settings, "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST", None) or []
    # The process's settings module, as settings.py checks it (override_settings hides settings.SETTINGS_MODULE).
    if not hosts or os.environ.get("DJANGO_SETTINGS_MODULE") != TEST_SETTINGS_MODULE:
        return frozenset()
    return frozenset(h.lower() for h in hosts)


def check_url(url: str) -> tuple[str, int, bool]:
    """(host, port, allowlisted) for a URL we may call, or DeliveryRefused. No DNS here (see resolve)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowlisted = host in test_allowlist()
    if not host:
        raise DeliveryRefused("invalid_url", _("The URL has no host."))
    if parts.username or parts.password:
        raise DeliveryRefused("invalid_url", _("The URL must not contain a user name or password."))
    if parts.scheme != "https" and not (parts.scheme == "http" and allowlisted):
        raise DeliveryRefused("https_required", _("Webhook endpoints must use HTTPS."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise DeliveryRefused("invalid_url", _("The URL has an invalid port.")) from exc
    if not allowlisted:
        literal = outbound.literal_address(host)
        refused = literal is not None and not outbound.address_is_public(literal)
        if refused or host == "localhost" or host.endswith(".localhost"):
            raise DeliveryRefused("private_address", _("Webhook endpoints must be reachable on the public internet."))
    return host, port, allowlisted


def resolve(host: str, port: int, allowlisted: bool) -> str:
    """The address to connect to: every address the name resolves to must be public (unless allowlisted)."""
    try:
        addresses = outbound.resolve_all(host, port)
    except outbound.UnresolvableHost as exc:
        raise DeliveryRefused("dns_error", _("The host name could not be resolved.")) from exc
    if not allowlisted and not all(outbound.address_is_public(ip) for ip in addresses):
        raise DeliveryRefused("private_address", _("The host name resolves to a private or reserved address."))
    return str(addresses[0])


def post(url: str, body: bytes, headers: dict[str, str], *, connect_timeout: float, read_timeout: float) -> Response:
    """POST once to a checked, pinned address. Network errors raise urllib3's exceptions; refusals DeliveryRefused."""
    host, port, allowlisted = check_url(url)
    address = resolve(host, port, allowlisted)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    common = {"port": port, "timeout": timeout, "retries": False, "maxsize": 1, "block": False}
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **common
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, **common)
    default_port = 443 if parts.scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(RESPONSE_EXCERPT_BYTES, decode_content=True) or b""
        finally:
            response.release_conn()
            response.close()
        return Response(status=response.status, body_excerpt=excerpt.decode("utf-8", errors="replace"))
    finally:
        pool.close()
