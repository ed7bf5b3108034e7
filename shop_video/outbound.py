"""Which addresses an outgoing request may reach: the one filter of every request the service makes to a URL
a merchant gave (catalogue images, webhooks). Standard library only, so the workers and the web layer can both
import it without importing each other.

An address is public when it is globally routable and not multicast, reserved, private, loopback, link-local,
site-local, unspecified or a cloud metadata endpoint. An IPv6 address that carries an IPv4 address is judged
by the IPv4 address it carries too, since a relay or translator would deliver it there:

- IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d` and IPv4-compatible `::a.b.c.d`;
- 6to4 `2002:AABB:CCDD::/48` (the address in bits 16–48);
- Teredo `2001::/32` (the server in bits 32–64, the client XOR-obfuscated in the last 32 bits);
- NAT64 `64:ff9b::/96` (the last 32 bits): judged by the IPv4 address alone, so that a DNS64 network still
  reaches public IPv4 receivers (the standard library calls the whole of `::/8` reserved). The local-use
  `64:ff9b:1::/48` is refused outright: where the IPv4 address sits in it depends on the operator's prefix length;
- ISATAP interface identifiers `…:0:5efe:a.b.c.d` and `…:200:5efe:a.b.c.d` (any prefix).

Host names are resolved once and every address in the answer is judged (a name may return a public and a
private address); callers connect to a checked address, never to the name again.
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})

_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


class UnresolvableHost(Exception):
    """The name has no address (or is not a valid name)."""


def _bits(value: int, start: int, length: int) -> int:
    """`length` bits of a 128-bit number, counted from the most significant bit."""
    return (value >> (128 - start - length)) & ((1 << length) - 1)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address this IPv6 address carries in a known form (empty for a plain IPv6 address)."""
    value = int(ip)
    last32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _IPV4_TRANSLATED or (ip in _IPV4_COMPATIBLE and value > 1):  # :: and ::1 are themselves refused
        found.append(last32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client); ipaddress undoes the client's obfuscation
    if ip in _NAT64_WELL_KNOWN:
        found.append(last32)
    if (_bits(value, 64, 32) & 0xFCFFFFFF) == 0x00005EFE:  # ISATAP, with or without the u/g bits
        found.append(last32)
    return found


def _plainly_public(ip: IPAddress) -> bool:
    if ip in METADATA_ADDRESSES:
        return False
    refused = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )
    return bool(ip.is_global and not refused)


def address_is_public(ip: IPAddress) -> bool:
    """Whether an outgoing request may connect to `ip` (see the module's docstring)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        carried = embedded_ipv4(ip)
        if ip in _NAT64_WELL_KNOWN:
            return _plainly_public(carried[0])
        return _plainly_public(ip) and all(_plainly_public(v4) for v4 in carried)
    return _plainly_public(ip)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally, or None for a name. Besides the standard forms, the legacy IPv4
    forms that the system resolver also accepts (`127.1`, `0x7f.0.0.1`, `2130706433`) count as literals."""
    host = (host or "").strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve_all(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (literals included), in the resolver's order; UnresolvableHost if none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:  # socket.gaierror is an OSError
        raise UnresolvableHost(host) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnresolvableHost(host)
    return addresses
