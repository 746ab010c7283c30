"""The web tools as one ToolSource, built from settings: `web_search` when the owner configured a
search backend, `read_web_page` unless turned off. Its HTTP sessions live inside `async with`."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver

from config.settings import Settings
from core.tools.base import Tool, ToolCallContext
from core.tools.web_http import USER_AGENT
from core.tools.web_page import PageLimits, PageReader, WebPageTool, guarded_session
from core.tools.web_search import (
    BraveBackend,
    SearchBackend,
    SearxngBackend,
    TavilyBackend,
    WebSearchTool,
)


def search_backend(settings: Settings) -> SearchBackend | None:
    """The backend WEB_SEARCH_BACKEND names (`auto`: the first one configured, in the order
    SearXNG, Tavily, Brave), or None when search is off or nothing is configured."""
    choice = settings.web_search_backend
    if choice in ("auto", "searxng") and settings.searxng_url:
        return SearxngBackend(settings.searxng_url)
    if choice in ("auto", "tavily") and settings.tavily_api_key.get_secret_value():
        return TavilyBackend(settings.tavily_api_key, settings.tavily_base_url)
    if choice in ("auto", "brave") and settings.brave_api_key.get_secret_value():
        return BraveBackend(settings.brave_api_key, settings.brave_base_url)
    return None


class WebTools:
    """`async with WebTools(...) as source:` opens the sessions; outside it, no tools."""

    def __init__(
        self,
        backend: SearchBackend | None,
        *,
        page_tool: bool = True,
        limits: PageLimits | None = None,
        search_results: int = 5,
        search_timeout_s: float = 10.0,
        allow_loopback: bool = False,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._backend = backend
        self._page_tool = page_tool
        self._limits = limits or PageLimits()
        self._search_results = search_results
        self._search_timeout_s = search_timeout_s
        self._allow_loopback = allow_loopback
        self._resolver = resolver
        self._sessions: list[aiohttp.ClientSession] = []
        self._tools: tuple[Tool, ...] = ()

    def __repr__(self) -> str:
        return f"WebTools(search={self._backend!r}, page_tool={self._page_tool})"

    async def __aenter__(self) -> WebTools:
        tools: list[Tool] = []
        if self._backend is not None:
            # The owner's own search service may well be on the LAN: no address guard here.
            # Its time cap is the tool's (WebSearchTool.run).
            session = aiohttp.ClientSession(trust_env=False, headers={"User-Agent": USER_AGENT})
            self._sessions.append(session)
            tools.append(
                WebSearchTool(
                    self._backend,
                    session,
                    results=self._search_results,
                    timeout_s=self._search_timeout_s,
                )
            )
        if self._page_tool:
            session = guarded_session(allow_loopback=self._allow_loopback, resolver=self._resolver)
            self._sessions.append(session)
            reader = PageReader(session, self._limits, allow_loopback=self._allow_loopback)
            tools.append(WebPageTool(reader, self._limits))
        self._tools = tuple(tools)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._tools = ()
        sessions, self._sessions = self._sessions, []
        for session in sessions:
            await session.close()

    def tools(self) -> Sequence[Tool]:
        return self._tools

    def allowed_in(self, context: ToolCallContext) -> bool:
        # Groups: the loop keeps acts_outside tools off until an admin turns them on.
        return True


def web_tools(settings: Settings, *, resolver: AbstractResolver | None = None) -> WebTools:
    """The web tools the settings ask for; enter with `async with`. `resolver` replaces the
    system's DNS for the page reader (tests), still behind the address guard."""
    limits = PageLimits(
        max_bytes=settings.web_fetch_max_kb * 1024,
        timeout_s=settings.web_fetch_timeout_s,
        max_chars=settings.web_fetch_max_chars,
    )
    return WebTools(
        search_backend(settings),
        page_tool=settings.web_page_tool,
        limits=limits,
        search_results=settings.web_search_results,
        search_timeout_s=settings.web_search_timeout_s,
        allow_loopback=settings.web_fetch_allow_loopback,
        resolver=resolver,
    )
