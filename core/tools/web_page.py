"""Read a web page as a tool: fetch a public http(s) URL and return its main text.

The main text of HTML comes from trafilatura (maintained, and the best scorer among open
extractors in its benchmarks: navigation, ads and footers left out); plain text is passed as
is, PDFs through pypdf. Caps: the bytes read (streamed, stopped past the cap), the time of the
whole fetch with its redirects, and the characters returned. Every hop is checked by the address
guard: literal hosts here, names in the connector's resolver (core/tools/address_guard.py).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import pypdf
from aiohttp.abc import AbstractResolver
from yarl import URL

from core.tools.address_guard import AddressRefused, GuardedResolver, check_host
from core.tools.base import ToolCallContext, ToolOutput, ToolSpec
from core.tools.web_http import USER_AGENT, one_line, read_capped

log = logging.getLogger("core.tools.web_page")

REDIRECTS = (301, 302, 303, 307, 308)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv"})
PDF_TYPE = "application/pdf"
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class PageLimits:
    max_bytes: int = 2 * 1024 * 1024
    timeout_s: float = 15.0
    max_chars: int = 12_000
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class _Body:
    url: URL
    media_type: str
    charset: str | None
    data: bytes
    truncated: bool


class PageRefused(Exception):
    """Why the page cannot be read, in a line the model can pass on."""


def guarded_session(
    *, allow_loopback: bool = False, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """An HTTP session that connects only to addresses the guard allows (its time cap is the
    reader's, over the whole fetch with its redirects). No DNS cache and no
    kept-alive connections (each fetch looks the name up again, through the guard), no proxies
    from the environment, no cookies kept between chats."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(resolver, allow_loopback=allow_loopback),
        use_dns_cache=False,
        force_close=True,
        limit=32,
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        headers={"User-Agent": USER_AGENT, "Accept": "text/html, text/plain;q=0.9, */*;q=0.5"},
    )


class PageReader:
    """Fetches and extracts pages through a guarded session (see `guarded_session`)."""

    def __init__(
        self, session: aiohttp.ClientSession, limits: PageLimits, *, allow_loopback: bool = False
    ) -> None:
        self._session = session
        self._limits = limits
        self._allow_loopback = allow_loopback

    async def read(self, address: str) -> ToolOutput:
        try:
            url = URL(address.strip())
        except (ValueError, TypeError):
            return ToolOutput("That is not a web address.", is_error=True)
        if url.scheme not in ("http", "https") or not url.host:
            return ToolOutput("Only http:// and https:// web addresses can be read.", True)
        host = url.host
        try:
            async with asyncio.timeout(self._limits.timeout_s):
                body = await self._fetch(url)
            text = await asyncio.to_thread(self._extract, body)
        except PageRefused as refusal:
            return ToolOutput(str(refusal), is_error=True)
        except AddressRefused as refused:
            log.info("web page: refused a private or local address")
            return ToolOutput(_refused_text(refused.host), is_error=True)
        except TimeoutError:
            return ToolOutput(
                f"The page did not load within {self._limits.timeout_s:g} s.", is_error=True
            )
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, AddressRefused):
                log.info("web page: refused a name that resolves to a private or local address")
                return ToolOutput(_refused_text(error.host), is_error=True)
            return ToolOutput(f"Could not connect to {error.host.rstrip('.')}.", is_error=True)
        except aiohttp.InvalidURL:
            return ToolOutput("That is not a valid web address.", is_error=True)
        except aiohttp.ClientError as error:
            log.info("web page: %s failed (%s)", host, type(error).__name__)
            return ToolOutput(f"Could not read the page at {host}: the connection failed.", True)
        return ToolOutput(self._shape(body, text))

    async def _fetch(self, url: URL) -> _Body:
        for _ in range(self._limits.max_redirects + 1):
            if url.scheme not in ("http", "https") or not url.host:
                raise PageRefused("The page redirects to an address that is not http(s).")
            check_host(url.host, self._allow_loopback)
            async with self._session.get(url, allow_redirects=False) as response:
                if response.status in REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise PageRefused(f"The page answered HTTP {response.status}.")
                    try:
                        url = url.join(URL(location))
                    except ValueError:
                        raise PageRefused("The page redirects to a broken address.") from None
                    continue
                if response.status >= 400:
                    raise PageRefused(f"The page answered HTTP {response.status}.")
                media_type = response.content_type.lower()
                declared = "Content-Type" in response.headers
                if declared and not _readable(media_type):
                    raise PageRefused(
                        f"The address serves {one_line(media_type, 60)}, not a page: "
                        "I can read web pages, plain text and PDF."
                    )
                data, truncated = await read_capped(response, self._limits.max_bytes)
                if not declared:
                    media_type = "text/html" if _looks_like_html(data) else "text/plain"
                return _Body(url, media_type, response.charset, data, truncated)
        raise PageRefused(f"Gave up after {self._limits.max_redirects} redirects.")

    def _extract(self, body: _Body) -> str:
        if body.media_type == PDF_TYPE:
            return _pdf_text(body, self._limits.max_bytes)
        if body.media_type in TEXT_TYPES:
            return body.data.decode(_codec(body.charset), errors="replace")
        markup: str | bytes = body.data
        if body.charset:
            markup = body.data.decode(_codec(body.charset), errors="replace")
        # Imported on first use, in this worker thread: it loads lxml, dateparser and their
        # data (about half a second), which a bot that never reads a page need not pay at start.
        import trafilatura

        try:
            text = trafilatura.extract(
                markup, url=str(body.url), include_comments=False, include_tables=True
            )
        except Exception:  # lxml and the extractor's own errors on broken markup: unreadable
            log.info("web page: extraction failed", exc_info=True)
            raise PageRefused("The page could not be read (its markup is broken).") from None
        return text or ""

    def _shape(self, body: _Body, text: str) -> str:
        text = _BLANK_LINES.sub("\n\n", text.replace("\r\n", "\n")).strip()
        if not text:
            return f"{body.url}\n(no readable text found on this page)"
        lines = [str(body.url)]
        if body.truncated:
            lines.append(
                f"(the page is over {self._limits.max_bytes // 1024} KB: its start was read)"
            )
        limit = self._limits.max_chars
        if len(text) > limit:
            text = text[:limit] + f"\n[… cut at {limit:,} characters]"
        lines.append(text)
        return "\n".join(lines)


def _readable(media_type: str) -> bool:
    return media_type in HTML_TYPES or media_type in TEXT_TYPES or media_type == PDF_TYPE


def _looks_like_html(data: bytes) -> bool:
    start = data[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _codec(charset: str | None) -> str:
    if charset:
        try:
            "".encode(charset)
            return charset
        except LookupError:
            pass
    return "utf-8"


def _pdf_text(body: _Body, max_bytes: int) -> str:
    if body.truncated:
        raise PageRefused(f"The PDF is larger than {max_bytes // 1024} KB, more than I read.")
    try:
        reader = pypdf.PdfReader(io.BytesIO(body.data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:  # pypdf raises many kinds on a damaged file; all mean "unreadable"
        raise PageRefused("The PDF could not be read (damaged or encrypted).") from None


def _refused_text(host: str) -> str:
    return (
        f"Refused: {one_line(host, 100)} is a private, local or reserved address; "
        "only public web pages can be read."
    )


class WebPageTool:
    """The `read_web_page` tool."""

    def __init__(self, reader: PageReader, limits: PageLimits) -> None:
        self._reader = reader
        self._spec = ToolSpec(
            name="read_web_page",
            description=(
                "Read a public web page (http or https URL) and return its main text: for a "
                "link the user gives, or a search result to read in full. PDFs and plain text "
                "work too."
            ),
            parameters={
                "type": "object",
                "properties": {"url": {"type": "string", "description": "the page's address"}},
                "required": ["url"],
                "additionalProperties": False,
            },
            acts_outside=True,
            timeout_s=limits.timeout_s + 10,  # our own cap answers first, in words
            output_chars=limits.max_chars + 1_000,
        )

    @property
    def spec(self) -> ToolSpec:
        return self._spec

    def progress(self, arguments: Mapping[str, object]) -> str:
        address = arguments.get("url")
        host = ""
        if isinstance(address, str):
            try:
                host = URL(address.strip()).host or ""
            except (ValueError, TypeError):
                host = ""
        return f"📄 reading: {one_line(host, 80) or '…'}"

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        address = arguments.get("url")
        if not isinstance(address, str) or not address.strip():
            return ToolOutput("Give the page's `url`.", is_error=True)
        return await self._reader.read(address)
