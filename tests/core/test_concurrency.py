"""Turns of one conversation run in order; different conversations run in parallel."""

from __future__ import annotations

import asyncio
import time

from core.bootstrap import App
from core.boundary import ConversationKey
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import private, say


async def test_different_conversations_run_in_parallel(app: App, llm: FakeOpenAI) -> None:
    llm.latency_s = 0.4
    started = time.perf_counter()
    answers = await asyncio.gather(
        *(
            say(app.service, private(f"hi from {n}", key=ConversationKey("console", str(n))))
            for n in range(20)
        )
    )
    elapsed = time.perf_counter() - started
    assert [a.split(".")[0] for a in answers] == [f"You said: hi from {n}" for n in range(20)]
    assert elapsed < 0.4 * 20 / 3  # far from serial; a generous bound for a shared machine


async def test_one_conversations_turns_wait_for_each_other(app: App, llm: FakeOpenAI) -> None:
    llm.latency_s = 0.2
    first = asyncio.create_task(say(app.service, private("my name is Alice")))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(say(app.service, private("what is my name")))
    assert (await first).startswith("You said")
    # Had the second turn not waited, it would not have seen the first answer in its window.
    assert await second == "Your name is Alice."
    assert [m["content"] for m in llm.last_messages[1:]][:2] == [
        "my name is Alice",
        "You said: my name is Alice. I can see 1 earlier messages.",
    ]
    assert len(app.service._locks) == 0  # no lock outlives its turn
