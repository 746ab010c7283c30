"""web_search through each backend against the fake APIs: results, failures, and the keys."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from core.tools.base import ToolOutput
from fakes.search_server import BRAVE_KEY, TAVILY_KEY, FakeSearch
from tests.tools.conftest import CONTEXT, ToolsFactory, tool

BACKENDS = ["searxng", "tavily", "brave"]

EXPECTED = (
    "Web results for: foxes in snow\n"
    "[1] Foxes hunting in snow\n"
    "    https://example.org/foxes\n"
    "    Red foxes dive into the snow to catch mice they hear.\n"
    # the title's newline would forge a result line of its own: it is flattened
    "[2] Mousing [9] Forged line\n"
    "    https://example.net/mousing\n"
    "    The fox's jump mostly points north-east."
)


def backend_settings(web: FakeSearch, backend: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"web_search_backend": backend}
    if backend == "searxng":
        values["searxng_url"] = web.searxng_url
    elif backend == "tavily":
        values.update(tavily_api_key=TAVILY_KEY, tavily_base_url=web.tavily_url)
    else:
        values.update(brave_api_key=BRAVE_KEY, brave_base_url=web.brave_url)
    values.update(overrides)
    return values


async def search(
    make_tools: ToolsFactory, settings: dict[str, Any], **arguments: Any
) -> ToolOutput:
    async with make_tools(**settings) as source:
        return await tool(source, "web_search").run(arguments, CONTEXT)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_each_backend_returns_numbered_results_to_cite(
    web: FakeSearch, make_tools: ToolsFactory, backend: str
) -> None:
    output = await search(make_tools, backend_settings(web, backend), query="foxes in snow")

    assert output == ToolOutput(EXPECTED)
    (request,) = web.requests
    assert (request.backend, request.query) == (backend, "foxes in snow")
    if backend == "searxng":
        assert request.params["format"] == "json"
    elif backend == "tavily":
        assert request.headers["Authorization"] == f"Bearer {TAVILY_KEY}"
        assert request.params["max_results"] == 5
    else:
        assert request.headers["X-Subscription-Token"] == BRAVE_KEY
        assert request.params["count"] == "5"


async def test_the_count_asked_is_sent_and_kept(web: FakeSearch, make_tools: ToolsFactory) -> None:
    output = await search(make_tools, backend_settings(web, "brave"), query="foxes", count=1)

    assert output.text.count("https://") == 1
    assert web.requests[0].params["count"] == "1"


@pytest.mark.parametrize("backend", ["tavily", "brave"])
async def test_a_refused_key_is_a_readable_error(
    web: FakeSearch, make_tools: ToolsFactory, backend: str
) -> None:
    settings = backend_settings(web, backend, **{f"{backend}_api_key": "wrong-key-0000"})

    output = await search(make_tools, settings, query="foxes")

    assert output == ToolOutput(
        "Web search failed: the search service refused the bot's credentials or settings.",
        is_error=True,
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": 429}, "the search service's rate limit or quota is used up"),
        ({"status": 432}, "the search service's rate limit or quota is used up"),
        ({"status": 500}, "the search service had an error (HTTP 500)"),
        ({"status": 401}, "the search service refused the bot's credentials or settings"),
        ({"body": "<html>oops</html>"}, "the search service sent an unreadable answer"),
        ({"body": "[1, 2]"}, "the search service sent an unreadable answer"),
    ],
)
async def test_backend_failures_become_one_readable_line(
    web: FakeSearch,
    make_tools: ToolsFactory,
    backend: str,
    answer: dict[str, Any],
    expected: str,
) -> None:
    web.answer_with(**answer)

    output = await search(make_tools, backend_settings(web, backend), query="foxes")

    assert output == ToolOutput(f"Web search failed: {expected}.", is_error=True)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_slow_backend_times_out_in_words(
    web: FakeSearch, make_tools: ToolsFactory, backend: str
) -> None:
    web.answer_with(delay_s=30)
    settings = backend_settings(web, backend, web_search_timeout_s=0.3)

    output = await search(make_tools, settings, query="foxes")

    assert output == ToolOutput(
        "Web search failed: the search service did not answer within 0.3 s.", is_error=True
    )


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_backend_that_is_down_is_a_readable_error(
    make_tools: ToolsFactory, backend: str
) -> None:
    down = closed_port_url()
    settings = {
        "searxng": {"searxng_url": down},
        "tavily": {"tavily_api_key": TAVILY_KEY, "tavily_base_url": down},
        "brave": {"brave_api_key": BRAVE_KEY, "brave_base_url": down},
    }[backend]

    output = await search(make_tools, {"web_search_backend": backend, **settings}, query="x")

    assert output == ToolOutput(
        "Web search failed: the search service cannot be reached.", is_error=True
    )


@pytest.mark.parametrize("backend", ["tavily", "brave"])
async def test_the_key_never_reaches_logs_outputs_or_reprs(
    web: FakeSearch,
    make_tools: ToolsFactory,
    backend: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = TAVILY_KEY if backend == "tavily" else BRAVE_KEY
    seen: list[str] = []
    async with make_tools(**backend_settings(web, backend, web_search_timeout_s=0.5)) as source:
        searcher = tool(source, "web_search")
        seen += [repr(source), repr(searcher), str(searcher.spec)]
        for answer in ({}, {"status": 429}, {"status": 500}, {"body": "{"}, {"delay_s": 5}):
            web.answer_with(**answer)
            seen.append((await searcher.run({"query": "foxes"}, CONTEXT)).text)

    assert len(seen) == 8 and "Web results" in seen[3]
    assert caplog.records  # the failures were logged, in one line each...
    assert all(key not in text for text in [*seen, caplog.text])  # ...without the key


async def test_search_is_not_offered_without_a_backend(make_tools: ToolsFactory) -> None:
    async with make_tools() as source:
        assert [each.spec.name for each in source.tools()] == ["read_web_page"]
    async with make_tools(web_search_backend="off", tavily_api_key=TAVILY_KEY) as source:
        assert [each.spec.name for each in source.tools()] == ["read_web_page"]
    async with make_tools(web_page_tool=False) as source:
        assert source.tools() == ()


async def test_auto_picks_the_first_backend_configured(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    settings = {
        "tavily_api_key": TAVILY_KEY,
        "tavily_base_url": web.tavily_url,
        "brave_api_key": BRAVE_KEY,
        "brave_base_url": web.brave_url,
    }
    await search(make_tools, settings, query="first")
    await search(make_tools, {**settings, "searxng_url": web.searxng_url}, query="second")

    assert [request.backend for request in web.requests] == ["tavily", "searxng"]


async def test_the_tool_is_described_for_the_model_and_shows_progress(
    web: FakeSearch, make_tools: ToolsFactory
) -> None:
    async with make_tools(**backend_settings(web, "searxng")) as source:
        searcher = tool(source, "web_search")
        assert searcher.spec.acts_outside
        assert searcher.spec.parameters["required"] == ["query"]
        assert searcher.progress({"query": "weather\nin Seoul"}) == "🔎 searching: weather in Seoul"
        bad = [await searcher.run(arguments, CONTEXT) for arguments in ({}, {"query": "  "})]

    assert bad == [ToolOutput("Give a non-empty `query` to search for.", is_error=True)] * 2
    assert web.requests == []
