"""A flooded conversation: a bounded backlog, refused once, limits before waiting (issue 11
item 6)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from core.bootstrap import App
from core.boundary import AnswerDone, Answering, ConversationKey, Failure, Waiting
from core.texts import EN
from core.turn.service import DEFAULT_BACKLOG
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import BOB, GROUP, collect, group, private

BUSY = EN["busy.backlog_full"]

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def test_a_flood_waits_only_up_to_the_backlog_and_is_told_once(
    app: App, llm: FakeOpenAI
) -> None:
    llm.hang_next(1.5)  # the first turn runs while the flood arrives
    first = asyncio.create_task(collect(app.service, private("first")))
    await asyncio.sleep(0.3)
    flood = [
        asyncio.create_task(collect(app.service, private(f"flood {n}")))
        for n in range(DEFAULT_BACKLOG + 20)
    ]
    # Another conversation is not held up by the flood.
    other = await collect(app.service, private("elsewhere", key=ConversationKey("console", "9")))
    assert isinstance(other[-1], AnswerDone)
    assert not first.done()

    results = [await first] + [await task for task in flood]
    answered = [r for r in results if any(isinstance(e, AnswerDone) for e in r)]
    refusals = [e for r in results for e in r if isinstance(e, Failure)]
    silent = [r for r in results if not r]
    assert len(answered) == 1 + DEFAULT_BACKLOG  # the running turn and its backlog
    assert [e.text for e in refusals] == [BUSY]  # told once, not 20 times
    assert len(silent) == 20 - 1
    assert len(llm.chat_requests) == 1 + DEFAULT_BACKLOG + 1  # + the other conversation
    assert len(app.service._locks) == 0  # nothing outlives the flood

    # Once the conversation is idle, it takes messages again (and would say it again).
    assert isinstance((await collect(app.service, private("after")))[-1], AnswerDone)


async def test_a_rate_limited_flood_is_refused_before_waiting(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    overrides: dict[str, Any] = {"rate_limit_user_per_min": 2}
    async with make_app(**overrides) as app:
        llm.hang_next(1.5)
        first = asyncio.create_task(collect(app.service, group("first")))
        await asyncio.sleep(0.3)
        second = asyncio.create_task(collect(app.service, group("second")))  # within the limit
        await asyncio.sleep(0.1)
        # The rest is refused while the first turn still runs, taking no place in the backlog.
        refused = [
            await collect(app.service, group(f"flood {n}")) for n in range(DEFAULT_BACKLOG + 5)
        ]
        assert not first.done()
        assert app.service._locks.waiting(GROUP) == 2  # the first and the second
        assert isinstance(refused[0][0], Failure) and "too fast" in refused[0][0].text
        assert all(r == [] for r in refused[1:])  # said once a minute

        # Someone else in the same group still gets a place and an answer.
        bob = await collect(app.service, group("me too", author=BOB))
        assert isinstance(bob[-1], AnswerDone)
        assert isinstance((await first)[-1], AnswerDone)
        assert isinstance((await second)[-1], AnswerDone)


async def test_a_waiting_message_is_told_and_typing_comes_only_when_its_turn_runs(
    app: App, llm: FakeOpenAI
) -> None:
    llm.hang_next(1.0)
    first = asyncio.create_task(collect(app.service, private("first")))
    await asyncio.sleep(0.2)
    second = app.service.handle(private("second"))
    assert isinstance(await anext(second), Waiting)  # adapters free its slot meanwhile
    waiting = asyncio.ensure_future(anext(second))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # nothing more (so no typing) while it waits behind the first
    await first
    assert isinstance(await waiting, Answering)
    rest = [event async for event in second]
    assert isinstance(rest[-1], AnswerDone)
    assert not any(isinstance(event, Answering | Waiting) for event in rest)  # once per turn


async def test_a_message_of_an_idle_conversation_does_not_wait(app: App) -> None:
    events = [event async for event in app.service.handle(private("hello"))]
    assert isinstance(events[0], Answering)
    assert not any(isinstance(event, Waiting) for event in events)
