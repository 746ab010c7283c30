"""read_web_page against the fake site: extraction, types, caps, redirects and names that
resolve to private addresses (through a DNS the test controls)."""

from __future__ import annotations

from typing import Any

import pytest

from core.tools.base import ToolOutput
from fakes.search_server import HUGE_CHUNK, FakeDNS, FakeSearch
from tests.tools.conftest import CONTEXT, ToolsFactory, tool

LOOPBACK_OK = {"web_fetch_allow_loopback": True}


async def read(
    make_tools: ToolsFactory, url: str, resolver: FakeDNS | None = None, **settings: Any
) -> ToolOutput:
    async with make_tools(resolver=resolver, **{**LOOPBACK_OK, **settings}) as source:
        return await tool(source, "read_web_page").run({"url": url}, CONTEXT)


async def test_an_article_is_read_as_its_main_text(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    output = await read(make_tools, f"{web.site_url}/article")

    assert not output.is_error
    first, *rest = output.text.split("\n")
    assert first == f"{web.site_url}/article"
    text = "\n".join(rest)
    assert "Red foxes hunt small rodents under the snow" in text
    assert "This technique, called mousing" in text
    # navigation and footer are not the article
    assert "About us" not in text and "Cookie settings" not in text


async def test_plain_text_and_pdf_are_read(web: FakeSearch, make_tools: ToolsFactory) -> None:
    plain = await read(make_tools, f"{web.site_url}/plain")
    pdf = await read(make_tools, f"{web.site_url}/paper.pdf")

    assert plain == ToolOutput(f"{web.site_url}/plain\nPlain notes.\nLine two of the notes.")
    assert pdf == ToolOutput(f"{web.site_url}/paper.pdf\nFoxes in a PDF.")


async def test_other_types_are_refused_politely(web: FakeSearch, make_tools: ToolsFactory) -> None:
    output = await read(make_tools, f"{web.site_url}/image.png")

    assert output == ToolOutput(
        "The address serves image/png, not a page: I can read web pages, plain text and PDF.",
        is_error=True,
    )


async def test_a_huge_page_is_read_up_to_the_cap_and_no_further(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    output = await read(
        make_tools, f"{web.site_url}/huge", web_fetch_max_kb=64, web_fetch_max_chars=2000
    )

    assert not output.is_error
    lines = output.text.split("\n")
    assert lines[:2] == [f"{web.site_url}/huge", "(the page is over 64 KB: its start was read)"]
    assert lines[-1] == "[… cut at 2,000 characters]"
    assert len(output.text) < 2_200
    # The server offered ~120 MB; the reader hung up soon after its 64 KB (what is in flight
    # in the sockets' buffers is all the server managed to write).
    assert web.huge_bytes_sent < 2_000 * len(HUGE_CHUNK) // 4


async def test_a_slow_page_stops_at_the_time_cap(web: FakeSearch, make_tools: ToolsFactory) -> None:
    output = await read(make_tools, f"{web.site_url}/slow", web_fetch_timeout_s=0.5)

    assert output == ToolOutput("The page did not load within 0.5 s.", is_error=True)


async def test_the_time_cap_covers_the_whole_chain_of_redirects(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    # Each hop takes 0.4 s, well within the cap; the five together do not.
    url = f"{web.site_url}/slow-redirect?n=5&delay=0.4"

    output = await read(make_tools, url, web_fetch_timeout_s=1)

    assert output == ToolOutput("The page did not load within 1 s.", is_error=True)


async def test_http_errors_and_bad_addresses_are_one_line(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    missing = await read(make_tools, f"{web.site_url}/nothing-here")
    ftp = await read(make_tools, "ftp://example.org/file")
    empty = await read(make_tools, "")

    assert missing == ToolOutput("The page answered HTTP 404.", is_error=True)
    assert ftp == ToolOutput("Only http:// and https:// web addresses can be read.", is_error=True)
    assert empty == ToolOutput("Give the page's `url`.", is_error=True)


async def test_redirects_are_followed_and_bounded(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    followed = await read(make_tools, f"{web.site_url}/redirect?to=/site/plain")
    looping = await read(make_tools, f"{web.site_url}/loop")
    to_ftp = await read(make_tools, f"{web.site_url}/redirect?to=ftp://example.org/")
    broken = await read(make_tools, f"{web.site_url}/redirect?to=http://example.org:99999/")

    assert followed == ToolOutput(f"{web.site_url}/plain\nPlain notes.\nLine two of the notes.")
    assert looping == ToolOutput("Gave up after 5 redirects.", is_error=True)
    assert web.site_hits["/site/loop"] == 6  # the address asked, then five redirects
    assert to_ftp == ToolOutput(
        "The page redirects to an address that is not http(s).", is_error=True
    )
    assert broken == ToolOutput("The page redirects to a broken address.", is_error=True)


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/metadata", "169.254.169.254"),
        ("/intranet", "10.0.0.1"),
        ("/redirect?to=http://[::ffff:a9fe:a9fe]/latest/", "::ffff:a9fe:a9fe"),
        ("/redirect?to=http://2852039166/latest/", "2852039166"),  # 169.254.169.254
        ("/redirect?to=http://0.0.0.0/", "0.0.0.0"),
    ],
)
async def test_a_redirect_to_a_private_address_is_refused_even_with_loopback_allowed(
    web: FakeSearch, make_tools: ToolsFactory, path: str, host: str
) -> None:
    # A short time cap: were the guard to let it through, the connection would hang, not refuse.
    output = await read(make_tools, f"{web.site_url}{path}", web_fetch_timeout_s=2)

    assert output == ToolOutput(
        f"Refused: {host} is a private, local or reserved address; "
        "only public web pages can be read.",
        is_error=True,
    )


async def test_the_local_site_is_refused_without_the_test_switch(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    output = await read(make_tools, f"{web.site_url}/article", web_fetch_allow_loopback=False)
    by_name = await read(
        make_tools, f"http://localhost:{web.port}/site/article", web_fetch_allow_loopback=False
    )

    assert output.is_error and output.text.startswith("Refused: 127.0.0.1 is a private")
    assert by_name.is_error and by_name.text.startswith("Refused: localhost is a private")


async def test_names_are_checked_on_what_they_resolve_to(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    dns = FakeDNS(
        {
            "news.example": ["127.0.0.1"],
            "intranet.example": ["10.1.2.3"],
            "metadata.example": ["169.254.169.254"],
            "mixed.example": ["127.0.0.1", "192.168.1.20"],
            "mapped.example": ["::ffff:10.1.2.3"],
        }
    )
    port = web.port

    public = await read(make_tools, f"http://news.example:{port}/site/plain", dns)
    refused = [
        await read(make_tools, f"http://{name}:{port}/site/plain", dns, web_fetch_timeout_s=2)
        for name in ("intranet.example", "metadata.example", "mixed.example", "mapped.example")
    ]
    via_redirect = await read(
        make_tools, f"{web.site_url}/redirect?to=http://intranet.example:{port}/site/plain", dns
    )

    assert public == ToolOutput(
        f"http://news.example:{port}/site/plain\nPlain notes.\nLine two of the notes."
    )
    assert [output.text for output in refused] == [
        f"Refused: {name} is a private, local or reserved address; "
        "only public web pages can be read."
        for name in ("intranet.example", "metadata.example", "mixed.example", "mapped.example")
    ]
    assert via_redirect.text.startswith("Refused: intranet.example is a private")
    # one line, naming what the user gave, not what the name resolved to
    assert all("\n" not in output.text and "10.1.2.3" not in output.text for output in refused)


async def test_a_name_that_rebinds_is_checked_at_each_connection(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    dns = FakeDNS()
    dns.answers("rebind.example", ["127.0.0.1"], ["169.254.169.254"])
    url = f"http://rebind.example:{web.port}/site/plain"

    async with make_tools(resolver=dns, web_fetch_timeout_s=2, **LOOPBACK_OK) as source:
        reader = tool(source, "read_web_page")
        first = await reader.run({"url": url}, CONTEXT)
        second = await reader.run({"url": url}, CONTEXT)

    assert not first.is_error
    assert second.text.startswith("Refused: rebind.example is a private")
    # One lookup per connection, made by the connector itself: no separate "check" lookup
    # whose answer could differ from the one connected to.
    assert dns.lookups == ["rebind.example", "rebind.example"]


async def test_progress_names_the_host(make_tools: ToolsFactory) -> None:
    async with make_tools() as source:
        reader = tool(source, "read_web_page")

    assert reader.progress({"url": "https://news.example.org/a/b?c=1"}) == (
        "📄 reading: news.example.org"
    )
    assert reader.progress({"url": 3}) == "📄 reading: …"
    assert reader.spec.acts_outside
