"""The tool loop through Discord: a real discord.py client against the fake REST API, the real
core, the fake OpenAI server calling a tool defined here; progress shown in the message the
answer then fills, and the confirmation as buttons."""

from __future__ import annotations

import asyncio
from typing import Any

from bots.discord_adapter import DiscordBot
from fakes.discord_gateway import CHANNEL_ID, button_press_payload, feed_event, message_payload
from fakes.discord_rest import BOT_ID, FakeDiscord
from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.openai_tools import FakeToolCall
from tests.discord.conftest import BotFactory, interact
from tests.tools.scripted import ScriptedSource, ScriptedTool, answering

ALICE = 42
BOB = 43
MENTION = ((BOT_ID, "gptbot"),)


def look_up_then_answer(body: dict[str, Any]) -> FakeReply:
    if body["messages"][-1]["role"] == "tool":
        return FakeReply("Found: " + body["messages"][-1]["content"])
    return FakeReply("", tool_calls=(FakeToolCall("lookup", '{"q": "tides"}', pieces=2),))


async def test_progress_then_the_answer_and_a_confirmation_button(
    run_bot: BotFactory, discord_api: FakeDiscord, llm: FakeOpenAI
) -> None:
    gate = asyncio.Event()

    async def slow_lookup(arguments: Any, context: Any) -> Any:
        await gate.wait()
        return await answering("high at {q}")(arguments, context)

    lookup = ScriptedTool("lookup", slow_lookup, needs_confirmation=True)
    llm.responder = look_up_then_answer
    async with run_bot(tool_sources=[ScriptedSource([lookup])]) as bot:
        bot_: DiscordBot = bot
        asked = message_payload(
            f"<@{BOT_ID}> when are the tides?", author_id=ALICE, mentions=MENTION
        )
        feed_event(bot_, "MESSAGE_CREATE", asked)

        def question() -> dict[str, Any] | None:
            for message in discord_api.messages.values():
                if message.get("components"):
                    return message
            return None

        await discord_api.wait_until(
            lambda: question() is not None and len(discord_api.channel_texts(CHANNEL_ID)) >= 2,
            20,
        )
        # The placeholder is streamed (throttled), the question sent at once: either may be first.
        assert sorted(discord_api.channel_texts(CHANNEL_ID)) == [
            'Run `lookup` with {"q": "tides"}?',
            "🔎 lookup: tides",
        ]
        buttons = {
            button["label"]: button["custom_id"]
            for row in question()["components"]  # type: ignore[index]
            for button in row["components"]
        }
        assert list(buttons) == ["Yes", "No"]

        feed_event(
            bot_,
            "INTERACTION_CREATE",
            button_press_payload(question(), buttons["Yes"], user_id=BOB),
        )  # type: ignore[arg-type]
        refused = await discord_api.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
        assert refused.json["data"]["content"] == "Only the person who asked can answer this."
        assert lookup.calls == []

        gate.set()
        pressed = await interact(
            bot_,
            discord_api,
            button_press_payload(question(), buttons["Yes"], user_id=ALICE),  # type: ignore[arg-type]
        )
        assert pressed["data"]["content"] == "OK, running it."
        # The progress message became the answer.
        assert sorted(discord_api.channel_texts(CHANNEL_ID)) == [
            "Found: high at tides",
            'Run `lookup` with {"q": "tides"}?',
        ]
        assert lookup.calls == [{"q": "tides"}]
