"""Which addresses the page reader may connect to: public unicast ones only.

A chat user (or a model following a page's text) names the URL, so without this guard the bot
would read the host's cloud metadata service (169.254.169.254), an admin page on 10.x or a
database port on loopback. The check runs on the *resolved* addresses, inside the HTTP
client's connector (`GuardedResolver`), so the address checked is the address connected to: a
name that answers a public address to a first lookup and a private one to the next (DNS
rebinding) is checked at each lookup, and no lookup happens outside the guard. Literal IP hosts
never reach a resolver in aiohttp, so `check_host` covers them before each request and each
redirect.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Python's `is_global` already leaves out private, loopback, link-local, unspecified, reserved,
# documentation, benchmarking and shared (CGNAT, 100.64/10) ranges; these are the global-looking
# ones that still must not be reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the low 32 bits
_IETF_PROTOCOL = ipaddress.IPv4Network("192.0.0.0/24")  # RFC 6890: not forwardable (3.11 says
# global for parts of it)


class AddressRefused(OSError):
    """The host is, or resolves to, an address the reader must not connect to. An OSError so
    that aiohttp's connector passes it on (wrapped) like any failed lookup."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} is not a public address")
        self.host = host


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, NAT64), if any:
    ::ffff:127.0.0.1 reaches 127.0.0.1 on a dual-stack host."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_allowed(address: IPAddress, allow_loopback: bool = False) -> bool:
    """Whether the reader may connect to `address`: public unicast only (loopback too when the
    test-only switch is on; nothing else, ever)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:  # fe80::1%eth0: scoped means local
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_allowed(inner, allow_loopback)
    if allow_loopback and address.is_loopback:
        return True
    if isinstance(address, ipaddress.IPv4Address) and address in _IETF_PROTOCOL:
        return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_private
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_unspecified
    )


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself: dotted or bracketed IPv6, and also the legacy IPv4
    spellings (2130706433, 0177.0.0.1, 0x7f.1, 127.1) that the C library's parser accepts."""
    bare = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(part for part in bare.split(".")) and _looks_numeric(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def _looks_numeric(host: str) -> bool:
    return all(part.isdigit() or part.lower().startswith("0x") for part in host.split("."))


def check_host(host: str, allow_loopback: bool = False) -> None:
    """Raise AddressRefused for a literal address the reader must not reach; names pass here
    and are checked by GuardedResolver when the connector resolves them."""
    if not host:
        raise AddressRefused(host)
    name = host.rstrip(".").lower()
    if not allow_loopback and (name == "localhost" or name.endswith(".localhost")):
        raise AddressRefused(host)  # RFC 6761: loopback, whatever the DNS in use says
    address = literal_address(host)
    if address is not None and not is_allowed(address, allow_loopback):
        raise AddressRefused(host)


class GuardedResolver(AbstractResolver):
    """Resolves through `inner` (the system's resolver by default; tests pass their own) and
    refuses the whole name when any of its addresses is not allowed: a name that mixes public
    and private records is someone's trick, not a site."""

    def __init__(self, inner: AbstractResolver | None = None, allow_loopback: bool = False):
        self._inner = inner if inner is not None else ThreadedResolver()
        self._allow_loopback = allow_loopback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        check_host(host, self._allow_loopback)
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = ipaddress.ip_address(result["host"].split("%")[0])
            if "%" in result["host"] or not is_allowed(address, self._allow_loopback):
                raise AddressRefused(host)
        return results

    async def close(self) -> None:
        await self._inner.close()
