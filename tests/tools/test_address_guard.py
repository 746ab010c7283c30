"""The address guard's table: every spelling of a private, local or reserved address is refused
by read_web_page, with the test-only loopback switch off and (loopback aside) on."""

from __future__ import annotations

import ipaddress

import pytest

from core.tools.address_guard import AddressRefused, GuardedResolver, is_allowed, literal_address
from fakes.search_server import FakeDNS
from tests.tools.conftest import CONTEXT, ToolsFactory, tool

LOOPBACK_HOSTS = [
    "127.0.0.1",
    "127.255.255.254",
    "127.1",
    "2130706433",  # 127.0.0.1 as one decimal number
    "0177.0.0.1",  # octal
    "0x7f000001",  # hex
    "0x7f.1",
    "localhost",
    "LOCALHOST.",
    "app.localhost",  # RFC 6761: every name under localhost
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
]

ALWAYS_REFUSED_HOSTS = [
    "10.0.0.1",
    "10.1",  # 10.0.0.1, short form
    "167772161",  # 10.0.0.1 as a number
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "0xa9fea9fe",  # the same in hex
    "0251.0376.0251.0376",  # ...and in octal
    "169.254.0.1",
    "0.0.0.0",
    "0",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.0.8",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "[::]",
    "[fe80::1]",  # link-local
    "[fe80::1%25eth0]",
    "[fc00::1]",  # unique local
    "[fd00:ec2::254]",  # AWS's IPv6 metadata address
    "[ff02::1]",  # multicast
    "[ff05::2]",
    "[::ffff:10.0.0.1]",  # IPv4-mapped
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[::10.0.0.1]",  # IPv4-compatible (deprecated)
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of the metadata address
    "[64:ff9b::10.0.0.1]",
    "[64:ff9b:1::1]",  # local-use NAT64
    "[2002:a9fe:a9fe::1]",  # 6to4 of the metadata address
    "[2001:db8::1]",  # documentation
    "[100::1]",  # discard
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


async def fetch(make_tools: ToolsFactory, host: str, allow_loopback: bool) -> str:
    # A short time cap: a host the guard let through would hang or fail to connect, which
    # reads differently from the refusal.
    async with make_tools(web_fetch_timeout_s=2, web_fetch_allow_loopback=allow_loopback) as web:
        output = await tool(web, "read_web_page").run({"url": f"http://{host}/x"}, CONTEXT)
    assert output.is_error and "\n" not in output.text
    return output.text


@pytest.mark.parametrize("host", LOOPBACK_HOSTS + ALWAYS_REFUSED_HOSTS)
async def test_private_local_and_reserved_addresses_are_refused(
    make_tools: ToolsFactory, host: str
) -> None:
    text = await fetch(make_tools, host, allow_loopback=False)

    assert text.startswith("Refused: "), text
    assert text.endswith(
        "is a private, local or reserved address; only public web pages can be read."
    )


@pytest.mark.parametrize("host", ALWAYS_REFUSED_HOSTS)
async def test_the_loopback_switch_lets_nothing_else_through(
    make_tools: ToolsFactory, host: str
) -> None:
    text = await fetch(make_tools, host, allow_loopback=True)

    assert text.startswith("Refused: "), text


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
async def test_the_loopback_switch_allows_loopback(make_tools: ToolsFactory, host: str) -> None:
    # Nothing listens on port 80 here: the guard let it through, the connection failed.
    text = await fetch(make_tools, host, allow_loopback=True)

    assert not text.startswith("Refused"), text


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_allowed(ipaddress.ip_address(address))


def test_legacy_ipv4_spellings_are_read_as_the_c_library_reads_them() -> None:
    assert literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("0251.0376.0251.0376") == ipaddress.ip_address("169.254.169.254")
    assert literal_address("[::1]") == ipaddress.ip_address("::1")
    assert literal_address("example.org") is None
    assert literal_address("1.2.3.example") is None


async def test_the_resolver_refuses_a_name_with_any_private_address() -> None:
    dns = FakeDNS({"public.example": ["8.8.8.8"], "sneaky.example": ["8.8.8.8", "10.0.0.7"]})
    resolver = GuardedResolver(dns)

    (result,) = await resolver.resolve("public.example", 443)
    with pytest.raises(AddressRefused):
        await resolver.resolve("sneaky.example", 443)

    assert result["host"] == "8.8.8.8"
