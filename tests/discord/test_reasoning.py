"""A reasoning model on Discord: "thinking…" in the message the answer then takes over, and the
thinking itself behind a spoiler when the chat asked for it, never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.discord_adapter import DiscordBot
from config.settings import Settings
from fakes.discord_rest import FakeDiscord
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.discord.conftest import discord_settings, receive
from tests.discord.test_conversations import DM_CHANNEL, dm

THOUGHT = "They greet me. I greet back."


@pytest.fixture
def settings(tmp_path: Path, llm: FakeOpenAI) -> Settings:
    return discord_settings(tmp_path, llm, thinking_preview_after_s=0)


async def test_thinking_shows_then_the_answer_replaces_it(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
) -> None:
    llm.responder = lambda body: FakeReply(
        "Hello back!", reasoning_text=THOUGHT, first_token_delay_s=0.3
    )
    await receive(bot, "MESSAGE_CREATE", dm("/model o4-mini"))
    await receive(bot, "MESSAGE_CREATE", dm("hi"))
    assert discord_api.channel_texts(DM_CHANNEL)[1:] == ["Hello back!"]
    sends = discord_api.calls_to("POST", rf"/channels/{DM_CHANNEL}/messages")
    assert sends[-1].json["content"] == "💭 thinking…"  # the message the answer took over

    await receive(bot, "MESSAGE_CREATE", dm("/set show_reasoning on"))
    await receive(bot, "MESSAGE_CREATE", dm("hi again"))
    assert discord_api.channel_texts(DM_CHANNEL)[-2:] == [f"💭 ||{THOUGHT}||", "Hello back!"]
    assert all(THOUGHT not in str(m["content"]) for m in llm.last_messages)
