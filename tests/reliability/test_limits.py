"""Abuse limits: per-user and per-chat rates and budgets; owners exempt; `/usage` shows the rest."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config.settings import load_settings
from core.bootstrap import App
from core.boundary import Author, Failure
from core.policy.limits import RateLimiter, SharedRateLimiter
from core.storage.engine import migrate, open_database
from core.storage.rate_counters import RateCounterStore
from core.storage.schema import MessageRow, UsageRow
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import ALICE, BOB, collect, group, private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
KOREAN = Author("44", "민지", "ko")


async def user_texts(app: App) -> list[str]:
    async with session_on(app) as session:
        query = select(MessageRow.content).where(MessageRow.role == "user").order_by(MessageRow.id)
        return list((await session.scalars(query)).all())


def test_the_rate_limiter_allows_a_burst_then_one_per_interval() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=3, clock=lambda: now[0])
    assert [limiter.take(("u",)) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take(("u",)) == 20.0  # the next slot frees in 60/3 s
    assert limiter.take(("other",)) == 0.0
    now[0] = 20.0
    assert limiter.take(("u",)) == 0.0
    assert limiter.take(("u",)) > 0


def test_rate_limit_memory_follows_recent_activity_not_history() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=5, clock=lambda: now[0])
    for chat in range(20_000):
        limiter.take(("telegram", str(chat)))
        limiter.first_refusal(("telegram", str(chat)))
    assert len(limiter) == 20_000
    now[0] = 61.0  # a minute of silence: every allowance is back
    limiter.take(("telegram", "new"))
    assert len(limiter) == 1
    assert len(limiter._refused) == 0


async def test_a_user_over_the_rate_is_told_once_and_nothing_is_stored_or_sent(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(rate_limit_user_per_min=2) as app:
        assert (await say(app.service, private("one"))).startswith("You said: one")
        assert (await say(app.service, private("two"))).startswith("You said: two")
        (refused,) = await collect(app.service, private("three"))
        assert isinstance(refused, Failure)
        assert refused.text.startswith("You're sending messages too fast (at most 2 a minute)")
        assert await collect(app.service, private("four")) == []  # said once; quiet after
        assert await user_texts(app) == ["one", "two"]
        assert len(llm.chat_requests) == 2
        # Commands still work, and other users have their own allowance.
        assert "Usage in this chat" in await say(app.service, private("/usage"))
        assert (await say(app.service, group("hi", author=BOB))).startswith("You said: Bob: hi")


async def test_a_busy_group_hits_the_chat_rate_and_owners_are_exempt(make_app: MakeApp) -> None:
    async with make_app(rate_limit_chat_per_min=2, admin_users=frozenset({"22"})) as app:
        await say(app.service, group("a", author=ALICE))
        await say(app.service, group("b", author=ALICE))
        refused = await say(app.service, group("c", author=KOREAN))
        assert refused.startswith("이 대화에서 메시지가 너무 빨리 오고 있어요 (1분에 최대 2개)")
        assert (await say(app.service, group("owner here", author=BOB))).startswith("You said:")
        # Unaddressed messages kept as context cost nothing and are not limited.
        await say(app.service, group("/listen on", author=BOB))
        assert await collect(app.service, group("context", addressed=False)) == []
        assert "context" in await user_texts(app)


async def test_a_spent_user_budget_refuses_the_next_turn_and_usage_shows_what_is_left(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(budget_user_daily_usd=0.0000001, budget_user_monthly_usd=5) as app:
        assert (await say(app.service, private("first"))).startswith("You said: first")
        refused = await say(app.service, private("second"))
        # What the first turn cost: a fraction of a cent (the tools offered are counted too).
        assert re.match(r"You've used up your daily budget \(\$0\.000\d+ of \$0\.000000\)", refused)
        assert refused.endswith("It renews at 00:00 UTC.")
        assert len(llm.chat_requests) == 1
        usage = await say(app.service, private("/usage"))
        assert "Limits:" in usage
        assert "You, daily: $0.00 of $0.000000 left" in usage
        assert "You, monthly: $5.00 of $5.00 left" in usage
        # The budget follows the user into every chat on the platform...
        assert "daily budget" in await say(app.service, group("hello", author=ALICE))
        # ...but not other users, and never the owner.
        assert (await say(app.service, private("hi", author=BOB))).startswith("You said: hi")
    async with make_app(budget_user_daily_usd=0.0000001, admin_users=frozenset({"11"})) as app:
        assert (await say(app.service, private("owner"))).startswith("You said: owner")
        assert "no limits apply to you" in await say(app.service, private("/usage"))


async def test_a_chat_token_budget_counts_every_topic_of_the_chat(make_app: MakeApp) -> None:
    async with make_app(budget_chat_daily_tokens=50) as app:
        topic = group("x").key.__class__("telegram", group("x").key.chat_id, "7")
        await say(app.service, group("in a topic", key=topic))
        refused = await say(app.service, group("in the main chat", author=BOB))
        assert refused.startswith("This chat has used up its daily budget (")
        assert "tokens of 50 tokens)" in refused
        assert "This chat, daily: 0 tokens of 50 tokens left" in await say(
            app.service, group("/usage")
        )


async def test_spending_splits_today_from_the_rest_of_the_month(app: App) -> None:
    conversation = await app.storage.conversations.conversation(private("x").key)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    day = now.replace(hour=0, minute=0)
    month = day.replace(day=1)
    rows = [
        (now - timedelta(hours=1), 100, 1.0),  # today
        (now - timedelta(days=2), 1000, 10.0),  # this month
        (now - timedelta(days=40), 10000, 100.0),  # last month: not counted
    ]
    async with session_on(app, begin=True) as session:
        for created, tokens, cost in rows:
            session.add(
                UsageRow(
                    conversation_id=conversation.id,
                    user_id="11",
                    model="gpt-4o-mini",
                    prompt_tokens=tokens,
                    cached_tokens=0,
                    completion_tokens=tokens,
                    cost_usd=cost,
                    created_at=created,
                )
            )
    spent = await app.storage.usage.user_spending("telegram", "11", day, month)
    assert (spent.day_tokens, spent.day_usd) == (200, 1.0)
    assert (spent.month_tokens, spent.month_usd) == (2200, 11.0)
    assert (await app.storage.usage.user_spending("discord", "11", day, month)).month_tokens == 0
    chat = await app.storage.usage.chat_spending("telegram", conversation.key.chat_id, day, month)
    assert chat == spent


async def test_commands_have_their_own_gentler_rate_per_user(make_app: MakeApp) -> None:
    """Issue 11 item 5: a flood of commands is refused once a minute, then quietly."""
    async with make_app(rate_limit_user_commands_per_min=3, admin_users=frozenset({"33"})) as app:
        for _ in range(3):
            assert "persona: assistant" in await say(app.service, private("/settings"))
        (refused,) = await collect(app.service, private("/forget"))
        assert isinstance(refused, Failure)
        assert refused.text.startswith("You're sending messages too fast (at most 3 a minute).")
        assert await collect(app.service, private("/nosuch")) == []  # said once; quiet after
        assert await collect(app.service, group("/usage")) == []  # in every chat
        # Another user, the owner and the user's own turns are not held back by it.
        assert "persona:" in await say(app.service, private("/settings", author=BOB))
        owner = Author("33", "Ada", "en", can_manage=True)
        for _ in range(5):
            assert "persona:" in await say(app.service, private("/settings", author=owner))
        assert (await say(app.service, private("hello"))).startswith("You said: hello")
        # Other bots' commands in a group are not this bot's to count.
        for _ in range(3):
            assert await collect(app.service, group("/weather", author=BOB)) == []
        assert "persona:" in await say(app.service, group("/settings", author=BOB))


async def test_commands_are_limited_by_default_and_can_be_unlimited(make_app: MakeApp) -> None:
    assert load_settings(_env_file=None).rate_limit_user_commands_per_min == 20
    async with make_app(rate_limit_user_commands_per_min=20) as app:
        answers = [await say(app.service, private("/help")) for _ in range(21)]
        assert all(a.startswith("Commands:") for a in answers[:20])
        assert answers[20].startswith("You're sending messages too fast (at most 20 a minute)")
    async with make_app(rate_limit_user_commands_per_min=0) as app:
        for _ in range(40):
            assert (await say(app.service, private("/help"))).startswith("Commands:")


async def test_forget_keeps_what_was_spent_so_budgets_still_hold(make_app: MakeApp) -> None:
    """/forget deletes the user's words, not their spending: the usage rows stay, under salted
    hashes instead of the user's id and the private chat's conversation, across restarts."""
    async with make_app(budget_user_daily_usd=0.0000001, budget_chat_daily_tokens=50) as app:
        assert (await say(app.service, group("in the group"))).startswith("You said:")
        assert "daily budget" in await say(app.service, group("again"))
        await say(app.service, group("/forget"))
        assert "your daily budget" in await say(app.service, group("after forgetting"))
        # The group's own budget still counts her answer too.
        assert "This chat has used up" in await say(app.service, group("hi", author=BOB))
        assert (await say(app.service, private("hi", author=BOB))).startswith("You said:")
        await say(app.service, private("/forget", author=BOB))  # a private chat goes whole
        async with session_on(app) as session:
            rows = (await session.execute(select(UsageRow.user_id, UsageRow.user_hash))).all()
        assert len(rows) == 2
        assert all(user_id is None and user_hash for user_id, user_hash in rows)
    async with make_app(budget_user_daily_usd=0.0000001, budget_chat_daily_tokens=50) as app:
        assert "your daily budget" in await say(app.service, group("after a restart"))
        assert "daily budget" in await say(app.service, private("back", author=BOB))
    async with make_app(budget_chat_daily_tokens=50) as app:
        # Bob's private chat was deleted, but its budget follows the chat, not the row.
        assert "This chat has used up" in await say(app.service, private("back", author=BOB))
    assert await user_texts(app) == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_processes_sharing_postgresql_share_one_rate_allowance(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    """Two bots on one database (as two processes are): the user's allowance is one, wherever
    their messages land, and the refusal is said once across both (issue 15)."""
    async with (
        make_app(rate_limit_user_per_min=2) as first,
        make_app(rate_limit_user_per_min=2) as second,
    ):
        assert (await say(first.service, private("one"))).startswith("You said: one")
        assert (await say(second.service, private("two"))).startswith("You said: two")
        (refused,) = await collect(first.service, private("three"))
        assert isinstance(refused, Failure)
        assert refused.text.startswith("You're sending messages too fast (at most 2 a minute)")
        assert await collect(second.service, private("four")) == []  # said once, by either
        assert await user_texts(first) == ["one", "two"]
        assert len(llm.chat_requests) == 2
        assert (await say(second.service, group("hi", author=BOB))).startswith("You said: Bob: hi")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_shared_rate_limiter_counts_like_the_one_in_memory(database_url: str) -> None:
    database = open_database(database_url)
    try:
        await migrate(database)
        store = RateCounterStore(database)
        now = [1_000_000.0]
        limiter = SharedRateLimiter(store, "user", per_minute=3, clock=lambda: now[0])
        assert [await limiter.take(("u",)) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert await limiter.take(("u",)) == pytest.approx(20.0)  # the next slot frees in 60/3 s
        assert await limiter.first_refusal(("u",)) and not await limiter.first_refusal(("u",))
        assert await limiter.take(("other",)) == 0.0
        now[0] += 20.0
        assert await limiter.take(("u",)) == 0.0
        assert await limiter.take(("u",)) > 0
        now[0] += 61.0  # a minute of silence: the sweep forgets every key
        assert await store.sweep(now[0], 60.0) == 2
    finally:
        await database.dispose()
