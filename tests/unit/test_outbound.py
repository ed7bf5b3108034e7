"""The one address filter of outgoing requests (shop_video.outbound): a table of addresses and what they are
judged, IPv6 forms that carry an IPv4 address judged by the address they carry."""

from __future__ import annotations

import ipaddress

import pytest

from shop_video import outbound

# (address, public?, what it is)
TABLE = [
    ("93.184.215.14", True, "public IPv4"),
    ("8.8.8.8", True, "public IPv4"),
    ("2606:4700:4700::1111", True, "public IPv6"),
    ("127.0.0.1", False, "loopback"),
    ("10.0.0.1", False, "private"),
    ("172.16.5.4", False, "private"),
    ("192.168.1.1", False, "private"),
    ("169.254.169.254", False, "cloud metadata"),
    ("100.64.0.1", False, "CGNAT"),
    ("0.0.0.0", False, "unspecified"),
    ("224.0.0.1", False, "multicast (is_global says True)"),
    ("240.0.0.1", False, "reserved"),
    ("255.255.255.255", False, "broadcast"),
    ("::1", False, "IPv6 loopback"),
    ("::", False, "IPv6 unspecified"),
    ("fe80::1", False, "link-local"),
    ("fec0::1", False, "site-local"),
    ("fd00:ec2::254", False, "cloud metadata, IPv6"),
    ("ff02::1", False, "IPv6 multicast"),
    ("::ffff:127.0.0.1", False, "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", False, "IPv4-mapped private"),
    ("::ffff:0:7f00:1", False, "IPv4-translated loopback"),
    ("::127.0.0.1", False, "IPv4-compatible loopback"),
    ("::a9fe:a9fe", False, "IPv4-compatible metadata"),
    ("2002:7f00:1::", False, "6to4 around 127.0.0.1 (the probe's webhook URL)"),
    ("2002:a00:1::1", False, "6to4 around 10.0.0.1"),
    ("2002:5db8:d70e::1", True, "6to4 around a public address"),
    ("64:ff9b::7f00:1", False, "NAT64 well-known prefix around 127.0.0.1 (the probe's webhook URL)"),
    ("64:ff9b::a9fe:a9fe", False, "NAT64 around the metadata service"),
    ("64:ff9b::5db8:d70e", True, "NAT64 around a public address"),
    ("64:ff9b:1::5db8:d70e", False, "NAT64 local-use prefix: refused whatever it carries"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False, "Teredo, client 127.0.0.1 obfuscated"),
    ("2001:4860:1::5efe:7f00:1", False, "ISATAP around 127.0.0.1 behind a public prefix"),
    ("2001:4860:1::200:5efe:a00:1", False, "ISATAP (u bit set) around 10.0.0.1"),
]


@pytest.mark.parametrize(("address", "public", "what"), TABLE, ids=[row[0] for row in TABLE])
def test_classification(address, public, what):
    assert outbound.address_is_public(ipaddress.ip_address(address)) is public, what


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("2002:7f00:1::", "127.0.0.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),
        ("fe80::5efe:a00:1", "10.0.0.1"),
        ("::10.0.0.1", "10.0.0.1"),
    ],
)
def test_embedded_ipv4_finds_the_carried_address(address, carried):
    assert ipaddress.ip_address(carried) in outbound.embedded_ipv4(ipaddress.ip_address(address))


def test_a_plain_ipv6_address_carries_nothing():
    assert outbound.embedded_ipv4(ipaddress.ip_address("2606:4700:4700::1111")) == []


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[2002:7f00:1::]", "2002:7f00:1::"),
        ("127.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_literal_addresses_in_every_form_the_resolver_takes(host, address):
    assert outbound.literal_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["shop.example.com", "1x.example", "deadbeef.com", ""])
def test_names_are_not_literals(host):
    assert outbound.literal_address(host) is None
