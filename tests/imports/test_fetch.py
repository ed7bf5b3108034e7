"""The SSRF-safe fetcher against a real server on localhost: address checks, the name in the Host header while
connecting to the checked address (no second DNS lookup), redirects re-checked, limits, sniffing."""

from __future__ import annotations

import socket

import pytest

from generation.imports import fetch
from generation.imports.checks import fetch_allowlist_check
from tests.imports.conftest import product_jpeg

# Addresses that carry a loopback or private IPv4 address (the table of every form: tests/unit/test_outbound.py).
EMBEDDED_IPV4_HOSTS = [
    "[2002:7f00:1::]",  # 6to4
    "[64:ff9b::7f00:1]",  # NAT64
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::127.0.0.1]",  # IPv4-compatible
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
    "[2001:4860:1::5efe:7f00:1]",  # ISATAP
    "127.1",  # a legacy IPv4 form the resolver takes
]


@pytest.mark.parametrize("host", EMBEDDED_IPV4_HOSTS)
def test_the_fetcher_refuses_embedded_ipv4_forms_before_connecting(host, monkeypatch):
    connects = []
    monkeypatch.setattr(fetch, "_pool", lambda *args, **kwargs: connects.append(args))
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(f"http://{host}:8443/p.jpg")
    assert err.value.code == "address_not_allowed"
    assert connects == []


def test_happy_path_through_the_allowlist_sends_the_name(allow_server):
    data = product_jpeg(1)
    allow_server.image("/p.jpg", data, content_type="text/plain")  # the header lies; the content decides
    got = fetch.fetch_image(f"http://localhost:{allow_server.port}/p.jpg")
    assert got.data == data and got.format == "JPEG"
    assert allow_server.requests == [("/p.jpg", f"localhost:{allow_server.port}")]


def test_allowlist_is_address_and_port_exact(settings, image_server):
    image_server.image("/p.jpg", product_jpeg(1))
    settings.SHOPVIDEO_FETCH_ALLOWLIST = [f"127.0.0.1:{image_server.port + 1}"]
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(image_server.url("/p.jpg"))
    assert err.value.code == "address_not_allowed"
    assert image_server.requests == []


def test_dns_is_resolved_once_and_the_checked_address_is_used(allow_server, monkeypatch):
    """DNS rebinding: the first answer is checked; a second lookup (which would answer 10.0.0.1) never happens."""
    allow_server.image("/p.jpg", product_jpeg(2))
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    calls = []

    def rebinding(host, port, *args, **kwargs):
        if host == "shop.rebind.test":
            calls.append(host)
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    got = fetch.fetch_image(f"http://shop.rebind.test:{allow_server.port}/p.jpg")
    assert got.format == "JPEG"
    assert calls == ["shop.rebind.test"]
    assert allow_server.requests == [("/p.jpg", f"shop.rebind.test:{allow_server.port}")]


def test_a_name_answering_public_and_private_is_refused(monkeypatch):
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host == "mixed.test":
            return real("8.8.8.8", port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with pytest.raises(fetch.FetchError) as err:
        fetch.resolve_checked("mixed.test", 80)
    assert err.value.code == "address_not_allowed"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.jpg", "file:///etc/passwd", "gopher://x/", "http://user:pw@example.com/a.jpg"]
)
def test_only_plain_http_urls(url):
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(url)
    assert err.value.code == "url_not_allowed"


def test_redirect_chain_followed_and_rechecked(allow_server):
    allow_server.image("/final.jpg", product_jpeg(3))
    allow_server.redirect("/two", "/final.jpg", status=301)
    allow_server.redirect("/one", allow_server.url("/two"), status=307)
    assert fetch.fetch_image(allow_server.url("/one")).format == "JPEG"
    assert [p for p, _h in allow_server.requests] == ["/one", "/two", "/final.jpg"]


def test_redirect_loop_stops(allow_server):
    allow_server.redirect("/loop", "/loop")
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(allow_server.url("/loop"))
    assert err.value.code == "too_many_redirects"
    assert len(allow_server.requests) == fetch.MAX_REDIRECTS + 1


def test_redirect_to_metadata_refused(allow_server):
    allow_server.redirect("/meta", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(allow_server.url("/meta"))
    assert err.value.code == "address_not_allowed"


def test_size_limit_while_streaming_reads_little_more_than_the_limit(allow_server):
    allow_server.endless("/big", 20 * 1024 * 1024, declare_length=False)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(allow_server.url("/big"), max_bytes=1024 * 1024)
    assert err.value.code == "image_too_large_bytes"


def test_read_timeout(allow_server, monkeypatch):
    monkeypatch.setattr(fetch, "READ_TIMEOUT", 0.5)
    allow_server.slow("/slow", 3.0)
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(allow_server.url("/slow"))
    assert err.value.code == "fetch_timeout"


def test_http_error_status(allow_server):
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_image(allow_server.url("/missing.jpg"))
    assert (err.value.code, err.value.params) == ("http_error", {"status": 404})


def test_system_check_refuses_the_allowlist_without_debug(settings):
    settings.SHOPVIDEO_FETCH_ALLOWLIST = ["127.0.0.1:8000"]
    settings.DEBUG = False
    assert [e.id for e in fetch_allowlist_check()] == ["generation.E001"]
    settings.DEBUG = True
    assert fetch_allowlist_check() == []
    settings.SHOPVIDEO_FETCH_ALLOWLIST = []
    settings.DEBUG = False
    assert fetch_allowlist_check() == []
