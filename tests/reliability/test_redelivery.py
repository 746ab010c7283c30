"""A platform redelivers an update when the bot died before confirming it: the message is answered
then, once, and never twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from core.bootstrap import App
from core.boundary import AnswerDelta
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.core.helpers import collect, private, say

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def test_a_message_whose_turn_died_is_answered_on_redelivery_and_only_once(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app() as app:
        await say(app.service, private("hello", message_id="1"))
        llm.responder = lambda body: FakeReply("a slow answer " * 20, chunk_delay_s=0.05)
        streaming = asyncio.Event()

        async def turn() -> None:
            async for event in app.service.handle(private("are you there", message_id="2")):
                if isinstance(event, AnswerDelta):
                    streaming.set()

        task = asyncio.create_task(turn())
        await streaming.wait()
        task.cancel()  # the process dies mid-answer: nothing after this point runs
        with contextlib.suppress(asyncio.CancelledError):
            await task
    llm.responder = lambda body: "here I am"
    async with make_app() as app:  # restarted; the platform delivers update 2 again
        assert await say(app.service, private("are you there", message_id="2")) == "here I am"
        assert await collect(app.service, private("are you there", message_id="2")) == []
        assert await collect(app.service, private("hello", message_id="1")) == []
    asked = [r.body["messages"][-1]["content"] for r in llm.chat_requests]
    assert asked == ["hello", "are you there", "are you there"]  # the dead try and the answer
