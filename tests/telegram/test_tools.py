"""The tool loop through Telegram: real PTB against the fake Bot API, the real core, the fake
OpenAI server calling a tool defined here; progress shown where the answer comes, and the
confirmation as inline buttons."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.openai_tools import FakeToolCall
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot
from tests.telegram.test_bot import mention, replies
from tests.tools.scripted import ScriptedSource, ScriptedTool, answering

GROUP = -100500
ALICE = 501
BOB = 502


def look_up_then_answer(body: dict[str, Any]) -> FakeReply:
    if body["messages"][-1]["role"] == "tool":
        return FakeReply("Found: " + body["messages"][-1]["content"])
    return FakeReply("", tool_calls=(FakeToolCall("lookup", '{"q": "tides"}', pieces=3),))


async def test_progress_then_the_answer_and_a_confirmation_button(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    gate = asyncio.Event()

    async def slow_lookup(arguments: Any, context: Any) -> Any:
        await gate.wait()  # the progress line stays until the tool answers
        return await answering("high at {q}")(arguments, context)

    lookup = ScriptedTool("lookup", slow_lookup, needs_confirmation=True)
    llm.responder = look_up_then_answer
    alice = tg.user(ALICE, "Alice")
    async with running_bot(tg, llm, tmp_path / "bot.db", tool_sources=[ScriptedSource([lookup])]):
        tg.send_text(
            GROUP,
            "@testbot when are the tides?",
            user=alice,
            entities=mention("@testbot when are the tides?"),
        )
        await tg.wait_until(lambda: len(tg.bot_messages(GROUP)) >= 2)
        progress, question = tg.bot_messages(GROUP)
        assert progress.text == "🔎 lookup: tides"
        assert question.text == 'Run lookup with {"q": "tides"}?'  # `lookup` as code
        assert question.reply_markup is not None
        buttons = list(itertools.chain.from_iterable(question.reply_markup["inline_keyboard"]))
        assert [b["text"] for b in buttons] == ["Yes", "No"]

        # Bob's press is refused; Alice's Yes runs the tool.
        tg.press_button(
            GROUP, question.message_id, buttons[0]["callback_data"], user=tg.user(BOB, "Bob")
        )
        await tg.wait_until(lambda: len(tg.bot_messages(GROUP)) >= 3)
        assert tg.bot_messages(GROUP)[2].text == "Only the person who asked can answer this."
        assert lookup.calls == []
        tg.press_button(GROUP, question.message_id, buttons[0]["callback_data"], user=alice)
        await tg.wait_until(lambda: len(tg.bot_messages(GROUP)) >= 4)
        assert tg.bot_messages(GROUP)[3].text == "OK, running it."
        gate.set()
        shown = await replies(tg, GROUP, 4)
    # The progress message became the answer.
    assert shown[0] == "Found: high at tides"
    assert lookup.calls == [{"q": "tides"}]
