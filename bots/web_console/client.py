"""Who is asking, and how: the browser's address and scheme, believing X-Forwarded-* only from
the proxies WEB_CONSOLE_TRUSTED_PROXIES names."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bots.web_console.deps import deps


def client_address(request: web.Request) -> str:
    """The browser's address: the peer, or what a trusted proxy says it forwarded."""
    peer = request.remote or ""
    if _trusted(request, peer):
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]  # the hop the trusted proxy itself appended
    return peer


def is_https(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a trusted proxy)."""
    if request.secure:
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https" and _trusted(request, request.remote or "")


def _trusted(request: web.Request, peer: str) -> bool:
    proxies = deps(request).config.trusted_proxies
    if "*" in proxies:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(_matches(address, proxy) for proxy in proxies)


def _matches(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxy: str) -> bool:
    try:
        return address in ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        return False
