"""The console's report and conversation list on both databases: usage summed per UTC day (rows
a minute either side of midnight), split by model, platform and kind, costliest chats, budgets
with the top spender."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from core.bootstrap import App
from core.storage.schema import ConversationRow, UsageRow
from tests.core.helpers import GROUP, group, private, say
from tests.database import session_on


async def _add_usage(
    app: App, chat_id: str, rows: list[tuple[datetime, str, str, float, int]]
) -> None:
    async with session_on(app, begin=True) as session:
        conversation = (
            await session.execute(
                select(ConversationRow.id).where(ConversationRow.chat_id == chat_id)
            )
        ).scalar_one()
        await session.execute(
            insert(UsageRow),
            [
                {
                    "conversation_id": conversation,
                    "user_id": "22",
                    "model": model,
                    "prompt_tokens": tokens,
                    "cached_tokens": 0,
                    "completion_tokens": 0,
                    "reasoning_tokens": 0,
                    "cost_usd": cost,
                    "kind": kind,
                    "quantity": 0.0,
                    "created_at": at,
                }
                for at, model, kind, cost, tokens in rows
            ],
        )


async def test_usage_per_utc_day_split_and_budgets(
    make_app: Callable[..., AbstractAsyncContextManager[App]],
) -> None:
    async with make_app(budget_chat_daily_usd=5.0, budget_user_monthly_tokens=100_000) as app:
        await say(app.service, group("Hello"))  # one real turn today (gpt-4o-mini, chat)
        now = datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        await _add_usage(
            app,
            GROUP.chat_id,
            [
                (midnight + timedelta(minutes=1), "gpt-4o", "chat", 2.0, 1000),  # today, 00:01 UTC
                (midnight - timedelta(minutes=1), "gpt-4o", "chat", 1.0, 500),  # yesterday 23:59
                (midnight - timedelta(days=2), "whisper-1", "transcription", 0.5, 0),
                (midnight - timedelta(days=40), "gpt-4o", "chat", 100.0, 9),  # not shown
            ],
        )
        report = await app.console.usage_report(30)
    today, yesterday = report.total.days[-1], report.total.days[-2]
    assert (report.last_day, len(report.total.days)) == (now.date(), 30)
    assert yesterday.day == now.date() - timedelta(days=1)
    assert (yesterday.turns, yesterday.tokens, yesterday.cost_usd) == (1, 500, 1.0)
    assert today.turns == 2 and 2.0 < today.cost_usd < 2.01
    assert report.total.days[-3].cost_usd == 0.5
    by_model = {s.name: round(s.cost_usd, 2) for s in report.by_model}
    assert by_model == {"gpt-4o": 3.0, "whisper-1": 0.5, "gpt-4o-mini": 0.0}
    assert {s.name: s.turns for s in report.by_kind} == {"chat": 3, "transcription": 1}
    assert [s.name for s in report.by_platform] == ["telegram"]
    assert [c.key for c in report.costliest] == [GROUP]
    daily, monthly = report.budgets
    assert (daily.scope, daily.period, daily.unit, daily.limit) == ("chat", "daily", "usd", 5.0)
    assert daily.most_spent_by == "telegram:-2002" and 2.0 < daily.most_spent < 2.01
    assert 2.99 < daily.left < 3.0
    assert (monthly.scope, monthly.unit, monthly.most_spent_by) == ("user", "tokens", "telegram:22")


async def test_conversations_are_listed_and_searched(app: App) -> None:
    await say(app.service, private("Hi"))
    await say(app.service, group("Hello"))
    await say(app.service, private("/model gpt-4o"))
    listed = await app.console.conversations()
    assert [(str(c.key), c.messages, c.model) for c in listed] == [
        ("telegram:-2002", 2, "gpt-4o-mini"),
        ("telegram:1001", 2, "gpt-4o"),
    ]
    assert [str(c.key) for c in await app.console.conversations("GPT-4O-MINI")] == [
        "telegram:-2002"
    ]
    assert await app.console.conversations("discord") == []
    assert await app.console.transcript(424242) is None
    assert await app.console.run_command(424242, "reset") is None
