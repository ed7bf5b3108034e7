"""SSRF-safe image fetching for catalogue imports (runs in a worker).

- Only http and https; the host is resolved once and every address it resolves to must be public, as
  shop_video.outbound judges it (the filter webhooks use too: private, loopback, link-local, multicast,
  reserved, CGNAT, unspecified and cloud metadata addresses, also inside IPv6 forms that carry an IPv4 address).
- The connection goes to the address that was checked (no second lookup: DNS rebinding cannot swap it), with
  the name in the Host header and in TLS SNI, and the certificate checked against the name.
- Redirects are followed by hand, at most MAX_REDIRECTS, and every hop is checked again.
- A size limit while streaming (Content-Length is only an early refusal), a connect/read timeout and a deadline
  for the whole download; the content is sniffed with Pillow, never trusted from Content-Type.

`SHOPVIDEO_FETCH_ALLOWLIST` ("127.0.0.1:8123" entries: exact address and port) exists for tests that serve
images from localhost; a system check refuses it outside DEBUG and tests (generation.imports.checks).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from shop_video import outbound

from .zipimages import max_image_bytes

MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
DEADLINE_SECONDS = 30.0
CHUNK = 64 * 1024
USER_AGENT = "ShopVideo-CatalogImport/1.0"


class FetchError(Exception):
    """The image could not be fetched: `.code` (stable), `.params`."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Fetched:
    data: bytes
    url: str  # after redirects
    format: str  # as sniffed by Pillow


def _allowlist() -> set[str]:
    return {str(entry).strip().lower() for entry in getattr(settings, "SHOPVIDEO_FETCH_ALLOWLIST", ()) or ()}


def _allowed(ip: outbound.IPAddress, port: int) -> bool:
    if outbound.address_is_public(ip):
        return True
    entry = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
    return entry in _allowlist()


def resolve_checked(host: str, port: int) -> str:
    """Resolve `host` and return one address to connect to; refuses when ANY resolved address is not allowed
    (an attacker's name may return a public and a private address)."""
    try:
        addresses = outbound.resolve_all(host, port)
    except outbound.UnresolvableHost as exc:
        raise FetchError("host_not_found") from exc
    if not all(_allowed(ip, port) for ip in addresses):
        raise FetchError("address_not_allowed")
    return str(addresses[0])


def _pool(scheme: str, ip: str, port: int, host: str, timeout: urllib3.Timeout):
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            ip,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,  # SNI for the name, while the socket goes to the checked address
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False, maxsize=1)


def fetch_image(url: str, *, max_bytes: int | None = None, deadline_seconds: float = DEADLINE_SECONDS) -> Fetched:
    max_bytes = max_image_bytes() if max_bytes is None else max_bytes
    started = time.monotonic()
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            host = parts.hostname
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise FetchError("url_not_allowed") from exc
        if scheme not in ("http", "https") or not host or parts.username or parts.password:
            raise FetchError("url_not_allowed")
        ip = resolve_checked(host, port)
        host_header = parts.netloc.rsplit("@", 1)[-1]
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        pool = _pool(scheme, ip, port, host, timeout)
        try:
            response = pool.urlopen(
                "GET",
                path,
                headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": "image/*"},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.TimeoutError as exc:
            raise FetchError("fetch_timeout") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError("fetch_failed") from exc
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchError("http_error", status=response.status)
                url = urljoin(url, location.strip())
                continue
            if response.status != 200:
                raise FetchError("http_error", status=response.status)
            data = _read_limited(response, max_bytes, started, deadline_seconds)
        finally:
            response.release_conn()
            pool.close()
        return Fetched(data=data, url=url, format=_sniff(data))
    raise FetchError("too_many_redirects")


def _read_limited(response, max_bytes: int, started: float, deadline_seconds: float) -> bytes:
    too_large = FetchError("image_too_large_bytes", max_mb=max_bytes // (1024 * 1024))
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise too_large  # refused before reading a byte
    buf = bytearray()
    try:
        for chunk in response.stream(CHUNK, decode_content=False):
            buf += chunk
            if len(buf) > max_bytes:
                raise too_large
            if time.monotonic() - started > deadline_seconds:
                raise FetchError("fetch_timeout")
    except urllib3.exceptions.TimeoutError as exc:
        raise FetchError("fetch_timeout") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchError("fetch_failed") from exc
    return bytes(buf)


def _sniff(data: bytes) -> str:
    """The format by content, as Pillow reads the header; the ingest stage decodes and checks it fully later."""
    if not data:
        raise FetchError("empty_file")
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.format or ""
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise FetchError("not_an_image") from exc
    except Image.DecompressionBombError as exc:
        raise FetchError("decompression_bomb") from exc
