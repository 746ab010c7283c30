"""A Discord channel moves to a second provider's model: its answers come from that server, with
that server's key; the first provider never sees the second's key (issue 12 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bots.discord_adapter import DiscordBot
from config.settings import Settings
from core.texts import EN
from fakes.discord_rest import FakeDiscord
from fakes.openai_server import FakeOpenAI
from tests.discord.conftest import discord_settings, receive
from tests.discord.test_conversations import DM_CHANNEL, dm

LOCAL_KEY = "sk-local-discord-424242"
LOCAL_MODEL = "llama-3.1-8b"


@pytest.fixture
async def local() -> FakeOpenAI:
    async with FakeOpenAI(api_key=LOCAL_KEY, models=(LOCAL_MODEL,)) as server:
        server.responder = lambda body: "Hi from llama."
        yield server  # type: ignore[misc]


@pytest.fixture
def settings(
    tmp_path: Path, llm: FakeOpenAI, local: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("LOCAL_LLM_KEY", LOCAL_KEY)
    providers = {
        "local": {"base_url": local.base_url, "api_key_env": "LOCAL_LLM_KEY", "models": ["llama*"]}
    }
    return discord_settings(tmp_path, llm, providers=json.dumps(providers))


async def test_a_channel_switches_provider_with_model(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI, local: FakeOpenAI
) -> None:
    await receive(bot, "MESSAGE_CREATE", dm("hello"))
    await receive(bot, "MESSAGE_CREATE", dm(f"/model {LOCAL_MODEL}"))
    await receive(bot, "MESSAGE_CREATE", dm("and now?"))
    assert discord_api.channel_texts(DM_CHANNEL) == [
        "You said: hello. I can see 1 earlier messages.",
        f"Model is now {LOCAL_MODEL}.\nThis model is not in the catalog: I assume a 8192-token "
        "context and no price.",
        "Hi from llama.",
    ]
    (sent,) = local.chat_requests
    assert sent.api_key == LOCAL_KEY and sent.body["model"] == LOCAL_MODEL
    assert [m["content"] for m in sent.body["messages"][1:]] == [
        "hello",
        "You said: hello. I can see 1 earlier messages.",
        "and now?",
    ]
    assert [r.api_key for r in llm.chat_requests] == ["sk-test"]


async def test_a_provider_down_fails_only_its_channels(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI, local: FakeOpenAI
) -> None:
    await receive(bot, "MESSAGE_CREATE", dm(f"/model {LOCAL_MODEL}"))
    await local.__aexit__(None, None, None)  # the local server goes away
    await receive(bot, "MESSAGE_CREATE", dm("are you there?"))
    await receive(bot, "MESSAGE_CREATE", dm("/model gpt-4o-mini"))
    await receive(bot, "MESSAGE_CREATE", dm("and you?"))
    assert discord_api.channel_texts(DM_CHANNEL)[1:] == [
        EN["error.connection"],
        "Model is now gpt-4o-mini.",
        # The unanswered question stays in the history, the default provider answers.
        "You said: and you?. I can see 2 earlier messages.",
    ]
