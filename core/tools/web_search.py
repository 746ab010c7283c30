"""Web search as a tool, through the backend the owner picked: a self-hosted SearXNG (its JSON
API), Tavily or Brave Search (with a key). The model gets numbered results (title, link,
snippet) to cite; failures come back as one readable line, and the key never leaves the
request's header."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from pydantic import SecretStr

from core.tools.base import ToolCallContext, ToolOutput, ToolSpec
from core.tools.web_http import one_line, read_capped

log = logging.getLogger("core.tools.web_search")

MAX_ANSWER_BYTES = 2 * 1024 * 1024  # a search API's JSON; more is not a search answer
MAX_QUERY_CHARS = 400
_TAGS = re.compile(r"<[^>]{0,200}>")  # Brave marks matches with <strong> in its snippets


@dataclass(frozen=True, slots=True)
class SearchResult:
    title: str
    url: str
    snippet: str


class SearchFailed(Exception):
    """A search that did not work, said in a line the model can pass on (never the key)."""


class SearchBackend(Protocol):
    name: str

    async def search(
        self, session: aiohttp.ClientSession, query: str, count: int
    ) -> list[SearchResult]: ...


class SearxngBackend:
    """A SearXNG instance's JSON API (`format=json` must be enabled in its settings.yml)."""

    name = "searxng"

    def __init__(self, base_url: str) -> None:
        self._url = base_url.rstrip("/") + "/search"

    def __repr__(self) -> str:
        return f"SearxngBackend({self._url!r})"

    async def search(
        self, session: aiohttp.ClientSession, query: str, count: int
    ) -> list[SearchResult]:
        params = {"q": query, "format": "json"}
        async with session.get(self._url, params=params) as response:
            data = await _json_answer(response, self.name)
        items = data.get("results")
        return _results(items, "title", "url", "content")[:count]


class TavilyBackend:
    """Tavily's search API: POST /search with the key as a bearer token."""

    name = "tavily"

    def __init__(self, api_key: SecretStr, base_url: str = "https://api.tavily.com") -> None:
        self._key = api_key
        self._url = base_url.rstrip("/") + "/search"

    def __repr__(self) -> str:
        return f"TavilyBackend({self._url!r})"

    async def search(
        self, session: aiohttp.ClientSession, query: str, count: int
    ) -> list[SearchResult]:
        body = {"query": query, "max_results": count, "search_depth": "basic", "topic": "general"}
        headers = {"Authorization": f"Bearer {self._key.get_secret_value()}"}
        async with session.post(self._url, json=body, headers=headers) as response:
            data = await _json_answer(response, self.name)
        return _results(data.get("results"), "title", "url", "content")[:count]


class BraveBackend:
    """Brave Search's web search API: GET /res/v1/web/search with X-Subscription-Token."""

    name = "brave"

    def __init__(self, api_key: SecretStr, base_url: str = "https://api.search.brave.com") -> None:
        self._key = api_key
        self._url = base_url.rstrip("/") + "/res/v1/web/search"

    def __repr__(self) -> str:
        return f"BraveBackend({self._url!r})"

    async def search(
        self, session: aiohttp.ClientSession, query: str, count: int
    ) -> list[SearchResult]:
        headers = {
            "Accept": "application/json",
            "X-Subscription-Token": self._key.get_secret_value(),
        }
        params = {"q": query, "count": str(count)}
        async with session.get(self._url, params=params, headers=headers) as response:
            data = await _json_answer(response, self.name)
        web = data.get("web")
        items = web.get("results") if isinstance(web, dict) else []
        results = _results(items, "title", "url", "description")
        return [SearchResult(_strip_tags(r.title), r.url, _strip_tags(r.snippet)) for r in results][
            :count
        ]


async def _json_answer(response: aiohttp.ClientResponse, backend: str) -> dict[str, Any]:
    """The answer's JSON object, or SearchFailed saying in one line what went wrong."""
    body, truncated = await read_capped(response, MAX_ANSWER_BYTES)
    status = response.status
    if status >= 400:
        log.warning("web search: %s answered HTTP %d", backend, status)
        if status in (401, 403) or (status == 422 and b"SUBSCRIPTION_TOKEN" in body):
            # Brave answers a bad key with 422 SUBSCRIPTION_TOKEN_INVALID; SearXNG answers 403
            # when its JSON format is not enabled.
            raise SearchFailed("the search service refused the bot's credentials or settings")
        if status in (429, 432, 433):  # Tavily's 432/433: plan or pay-as-you-go limit reached
            raise SearchFailed("the search service's rate limit or quota is used up")
        raise SearchFailed(f"the search service had an error (HTTP {status})")
    try:
        if truncated:
            raise ValueError("too large")
        data = json.loads(body)
    except ValueError:
        log.warning("web search: %s sent an answer that is not JSON", backend)
        raise SearchFailed("the search service sent an unreadable answer") from None
    if not isinstance(data, dict):
        raise SearchFailed("the search service sent an unreadable answer")
    return data


def _results(items: object, title: str, url: str, snippet: str) -> list[SearchResult]:
    if not isinstance(items, list):
        return []
    results: list[SearchResult] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get(url)
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            continue
        name = item.get(title)
        text = item.get(snippet)
        results.append(
            SearchResult(
                title=name if isinstance(name, str) else link,
                url=link,
                snippet=text if isinstance(text, str) else "",
            )
        )
    return results


def _strip_tags(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


def format_results(query: str, results: list[SearchResult]) -> str:
    """Numbered results, one field per line: data only, nothing the model could read as an
    instruction from us."""
    if not results:
        return f"No web results for: {one_line(query, 200)}"
    lines = [f"Web results for: {one_line(query, 200)}"]
    for number, result in enumerate(results, 1):
        lines.append(f"[{number}] {one_line(result.title, 200)}")
        lines.append(f"    {one_line(result.url, 500)}")
        if result.snippet:
            lines.append(f"    {one_line(result.snippet, 400)}")
    return "\n".join(lines)


class WebSearchTool:
    """The `web_search` tool over one backend and one HTTP session (owned by WebTools)."""

    def __init__(
        self,
        backend: SearchBackend,
        session: aiohttp.ClientSession,
        *,
        results: int = 5,
        timeout_s: float = 10.0,
    ) -> None:
        self._backend = backend
        self._session = session
        self._results = results
        self._timeout_s = timeout_s
        self._spec = ToolSpec(
            name="web_search",
            description=(
                "Search the web for current information. Returns numbered results, each with "
                "a title, its URL and a snippet. Cite the results you use by number and URL. "
                "Use read_web_page to read a result in full."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "what to search for"},
                    "count": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10,
                        "description": f"how many results (default {results})",
                    },
                },
                "required": ["query"],
                "additionalProperties": False,
            },
            acts_outside=True,
            timeout_s=timeout_s + 5,  # our own timeout answers first, in words
        )

    def __repr__(self) -> str:
        return f"WebSearchTool({self._backend!r})"

    @property
    def spec(self) -> ToolSpec:
        return self._spec

    def progress(self, arguments: Mapping[str, object]) -> str:
        query = arguments.get("query")
        return f"🔎 searching: {one_line(query, 80) if isinstance(query, str) else '…'}"

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            return ToolOutput("Give a non-empty `query` to search for.", is_error=True)
        if len(query) > MAX_QUERY_CHARS:
            return ToolOutput(f"The query is too long (at most {MAX_QUERY_CHARS}).", is_error=True)
        count = arguments.get("count", self._results)
        if not isinstance(count, int) or isinstance(count, bool):
            count = self._results
        count = max(1, min(count, 10))
        try:
            async with asyncio.timeout(self._timeout_s):
                results = await self._backend.search(self._session, query.strip(), count)
        except SearchFailed as failure:
            return ToolOutput(f"Web search failed: {failure}.", is_error=True)
        except TimeoutError:
            log.warning("web search: %s timed out", self._backend.name)
            return ToolOutput(
                f"Web search failed: the search service did not answer within "
                f"{self._timeout_s:g} s.",
                is_error=True,
            )
        except aiohttp.ClientError as error:
            log.warning("web search: %s unreachable (%s)", self._backend.name, type(error).__name__)
            return ToolOutput("Web search failed: the search service cannot be reached.", True)
        return ToolOutput(format_results(query, results))
