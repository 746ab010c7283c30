"""Refused and failed turns are counted per UTC day and kind (the console's Overview shows them),
on both databases; a count that cannot be written never breaks the turn."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from sqlalchemy import select, text

from core.bootstrap import App
from core.boundary import AnswerDone, Failure
from core.storage.schema import TurnEventRow
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import BOB, collect, group, private
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def counted(app: App) -> dict[str, int]:
    """Today's counts by kind, read by the test itself."""
    today = datetime.now(UTC).date()
    query = select(TurnEventRow.kind, TurnEventRow.count).where(
        TurnEventRow.day == today, TurnEventRow.platform == "telegram"
    )
    async with session_on(app) as session:
        return {kind: count for kind, count in (await session.execute(query)).all()}


async def test_an_answered_turn_counts_nothing(app: App) -> None:
    assert isinstance((await collect(app.service, private("hello")))[-1], AnswerDone)
    assert await counted(app) == {}


async def test_a_rate_limited_turn_counts_one_each_time(make_app: MakeApp) -> None:
    async with make_app(rate_limit_user_per_min=1) as app:
        assert isinstance((await collect(app.service, private("one")))[-1], AnswerDone)
        (refused,) = await collect(app.service, private("two"))
        assert isinstance(refused, Failure) and "too fast" in refused.text
        assert await collect(app.service, private("three")) == []  # silent, still counted
        assert await counted(app) == {"refused.rate_limit": 2}
        report = await app.console.usage_report(30)
    assert [(s.name, s.turns, s.days[-1].turns) for s in report.events_by_kind] == [
        ("refused.rate_limit", 2, 2)
    ]


async def test_a_stranger_is_counted_when_they_address_the_bot_not_for_group_chatter(
    make_app: MakeApp,
) -> None:
    async with make_app(allowed_users=frozenset({"11"})) as app:  # Alice only; Bob is not
        assert await collect(app.service, group("just chatting", author=BOB, addressed=False)) == []
        assert await counted(app) == {}
        await collect(app.service, group("@bot hello", author=BOB))
        await collect(app.service, private("hi", author=BOB))
        assert await counted(app) == {"refused.not_allowed": 2}


async def test_a_budget_refusal_counts_one(make_app: MakeApp) -> None:
    async with make_app(budget_user_daily_tokens=10) as app:
        assert isinstance((await collect(app.service, private("one")))[-1], AnswerDone)
        (refused,) = await collect(app.service, private("two"))
        assert isinstance(refused, Failure)
        assert await counted(app) == {"refused.budget": 1}


async def test_provider_failures_count_by_kind(app: App, llm: FakeOpenAI) -> None:
    llm.fail_next(500)
    assert isinstance((await collect(app.service, private("one")))[-1], Failure)
    llm.fail_next(429)
    assert isinstance((await collect(app.service, private("two")))[-1], Failure)
    llm.fail_next(500)
    assert isinstance((await collect(app.service, private("three")))[-1], Failure)
    assert isinstance((await collect(app.service, private("four")))[-1], AnswerDone)
    assert await counted(app) == {"error.provider.server": 2, "error.provider.rate_limit": 1}


async def test_a_count_that_cannot_be_written_does_not_break_the_turn(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(rate_limit_user_per_min=1) as app:
        async with session_on(app, begin=True) as session:
            await session.execute(text("DROP TABLE turn_events"))
        assert isinstance((await collect(app.service, private("one")))[-1], AnswerDone)
        (refused,) = await collect(app.service, private("two"))
        assert isinstance(refused, Failure) and "too fast" in refused.text
        llm.fail_next(500)
        (failed,) = await collect(app.service, private("three", author=BOB))  # not limited
        assert isinstance(failed, Failure)
