"""The console's pages in a real browser, checked against what the database and the core say:
the overview's figures against the seeded usage rows, the window line against the request the
next turn really sends, a reset against the chat's memory."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from bots.web_console.rendering import thousands, usd
from core.model.catalog import ModelCatalog
from core.storage.schema import UsageRow
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import private, say
from tests.database import session_on
from tests.web_console.conftest import HISTORY_TOKENS, RunningConsole, screenshot

TOKENS = UsageRow.prompt_tokens + UsageRow.completion_tokens


async def _usage_since(
    console: RunningConsole, start: datetime, end: datetime | None = None
) -> Any:
    """(rows, tokens, dollars) of the usage table in [start, end), read by the test itself."""
    query = select(func.count(), func.sum(TOKENS), func.sum(UsageRow.cost_usd)).where(
        UsageRow.created_at >= start
    )
    if end is not None:
        query = query.where(UsageRow.created_at < end)
    async with session_on(console.app) as session:
        return (await session.execute(query)).one()


async def test_overview_shows_the_seeded_figures(signed_in: Any, console: RunningConsole) -> None:
    page = signed_in
    today = datetime.now(UTC).date()
    first = datetime.combine(today - timedelta(days=29), time(), tzinfo=UTC)
    turns, tokens, cost = await _usage_since(console, first)
    assert turns > 5  # the seeded rows and the seeded chats' turns
    assert await page.inner_text("#total-turns") == thousands(turns)
    assert await page.inner_text("#total-tokens") == thousands(tokens)
    assert await page.inner_text("#total-cost") == usd(cost)  # not the 45-day-old $9.00

    # Yesterday's bar in the cost chart: its slices add up to yesterday's rows (seeded: $1.75).
    yesterday = datetime.combine(today - timedelta(days=1), time(), tzinfo=UTC)
    _, _, spent = await _usage_since(console, yesterday, yesterday + timedelta(days=1))
    bars = page.locator(f"#chart-cost rect[data-day='{yesterday.date().isoformat()}']")
    values = [float(v) for v in await bars.evaluate_all("rs => rs.map(r => r.dataset.value)")]
    assert sorted(values) == [0.25, 1.5]
    assert abs(sum(values) - spent) < 1e-9
    # The tallest bar is yesterday's (the chart's scale), drawn taller than the others.
    heights = await page.locator("#chart-cost rect").evaluate_all(
        "rs => rs.map(r => [r.dataset.day, r.getBBox().height])"
    )
    per_day: dict[str, float] = {}
    for day, height in heights:
        per_day[day] = per_day.get(day, 0.0) + height
    assert max(per_day, key=lambda d: per_day[d]) == yesterday.date().isoformat()
    model_row = page.locator("#splits tr[data-by=model][data-name='gpt-4o'] td").nth(4)
    assert await model_row.inner_text() == usd(1.5 + 0.75)
    # Refusals and provider errors per kind, the 45-day-old ones left out; yesterday's bar.
    counts = await page.locator("#refusals tbody tr").evaluate_all(
        "rs => rs.map(r => [r.dataset.kind, r.cells[1].innerText])"
    )
    assert sorted(counts) == [
        ["error.provider.server", "3"],
        ["refused.budget", "5"],
        ["refused.rate_limit", "6"],
    ]
    bars = page.locator(f"#chart-refusals rect[data-day='{yesterday.date().isoformat()}']")
    values = await bars.evaluate_all("rs => rs.map(r => [r.dataset.slice, r.dataset.value])")
    assert sorted(values) == [["error.provider.server", "3.0"], ["refused.rate_limit", "6.0"]]
    await screenshot(page, "overview")


async def test_the_window_line_is_where_the_next_turn_starts(
    signed_in: Any, console: RunningConsole, llm: FakeOpenAI
) -> None:
    page = signed_in
    await page.click("nav >> text=Conversations")
    await page.fill("input[name=q]", "1001")
    await page.click("form.search button")
    rows = page.locator("#conversations tbody tr")
    assert await rows.count() == 1
    await rows.locator("a").click()
    start = int(await page.get_attribute("#window-line", "data-start") or "0")
    sent = page.locator("li[data-in-window=yes]")
    window_texts = await sent.locator(".text").all_inner_texts()
    first_id = int(await sent.first.get_attribute("data-id") or "0")
    outside = await page.locator("li[data-in-window=no]").count()
    system_prompt = await page.inner_text("li.system .text")
    await screenshot(page, "conversation")
    assert start == first_id and outside > 0  # the seed overflowed the window: a cut is shown
    summary = await page.inner_text("#window-summary")
    assert f"of the {HISTORY_TOKENS} tokens" in summary

    # The core's own next turn sends exactly those messages, after the same system prompt.
    await say(console.app.service, private("Hi"))
    sent_messages = llm.last_messages
    assert sent_messages[0]["content"] == system_prompt
    assert [m["content"] for m in sent_messages[1:-1]] == window_texts
    assert sent_messages[-1]["content"] == "Hi"


async def test_reset_from_the_console_empties_the_chats_memory(
    signed_in: Any, console: RunningConsole
) -> None:
    page = signed_in
    assert "Your name is Alice." in await say(console.app.service, private("What is my name?"))
    await page.goto(f"{console.url}/conversations")
    await page.click("text=telegram:1001")
    await page.click("#reset")
    assert "I forgot this chat's history" in await page.inner_text("#said")
    assert await page.locator("li[data-in-window]").count() == 0
    # The chat itself has forgotten: the core answers from an empty history.
    assert "I don't know your name." in await say(console.app.service, private("What is my name?"))


async def test_persona_and_model_switch_as_the_chat_commands_do(
    signed_in: Any, console: RunningConsole
) -> None:
    page = signed_in
    await page.goto(f"{console.url}/conversations")
    await page.click("text=telegram:1001")
    await page.select_option("#model", "gpt-4o")
    await page.click("form[action$='/model'] button")
    assert "gpt-4o" in await page.inner_text("#said")
    assert "model gpt-4o" in await page.inner_text("main p.muted")
    assert "gpt-4o" in await say(console.app.service, private("/model"))


async def test_models_lists_the_catalog_with_prices_per_1m_and_1k(
    signed_in: Any, console: RunningConsole
) -> None:
    page = signed_in
    await page.click("nav >> text=Models")
    spec = ModelCatalog.load(8192).get("gpt-4o-mini")
    row = page.locator("#models tr[data-model='gpt-4o-mini'] td")
    assert await row.nth(2).inner_text() == thousands(spec.context_window)
    assert spec.input_per_1m is not None
    assert await row.nth(4).inner_text() == f"${spec.input_per_1m:g}"
    assert await row.nth(7).inner_text() == f"${spec.input_per_1m / 1000:g}"
    await screenshot(page, "models")
    # A phone: nothing wider than the screen but the tables' own scrolling.
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/conversations", "/models"):
        await page.goto(console.url + path)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "models-phone")
