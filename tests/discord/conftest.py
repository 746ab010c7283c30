"""A whole Discord bot per test: the real core on a SQLite file, the fake OpenAI server, and a
real discord.py client logged in to the fake Discord REST API and fed gateway payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bots.discord_adapter import DiscordBot, DiscordOptions
from config.settings import Settings
from core.bootstrap import bootstrap
from core.tools.base import ToolSource
from fakes.discord_gateway import feed_event, go_online
from fakes.discord_rest import FakeDiscord, fake_discord
from fakes.openai_server import FakeOpenAI

EDIT_INTERVAL_S = 0.05  # small throttle so streaming tests stay fast


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


def discord_settings(tmp_path: Path, llm: FakeOpenAI, **overrides: Any) -> Settings:
    """A Discord bot's settings against the fakes; a test module's `settings` fixture adds what
    it needs."""
    values: dict[str, Any] = {
        "_env_file": None,
        "openai_api_key": "sk-test",
        "openai_base_url": llm.base_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "discord_bot_token": "test-token",
    }
    return Settings(**(values | overrides))


@pytest.fixture
def settings(tmp_path: Path, llm: FakeOpenAI) -> Settings:
    return discord_settings(tmp_path, llm)


@pytest.fixture
def options(tmp_path: Path) -> DiscordOptions:
    return DiscordOptions(
        token="test-token",
        edit_interval_s=EDIT_INTERVAL_S,
        command_sync_file=tmp_path / "commands.json",
    )


BotFactory = Callable[..., AbstractAsyncContextManager[DiscordBot]]


@pytest.fixture
def run_bot(settings: Settings, options: DiscordOptions, discord_api: FakeDiscord) -> BotFactory:
    """`async with run_bot(**option_overrides) as bot:` a logged-in bot on a fresh core."""

    @asynccontextmanager
    async def running(
        tool_sources: Sequence[ToolSource] = (), **overrides: object
    ) -> AsyncIterator[DiscordBot]:
        async with bootstrap(settings, tool_sources=tool_sources) as app:
            bot = DiscordBot(app.service, replace(options, **overrides))
            async with bot:
                await go_online(bot)
                yield bot
                await bot.replies.drain(10)

    return running


@pytest.fixture
async def bot(run_bot: BotFactory) -> AsyncIterator[DiscordBot]:
    async with run_bot() as running:
        yield running


async def receive(bot: DiscordBot, event: str, payload: dict[str, object]) -> None:
    """Feed a gateway event to the bot and wait until every reply it caused is on Discord."""
    feed_event(bot, event, payload)
    still = await bot.replies.wait(20)
    assert not still, "replies did not finish"


async def interact(
    bot: DiscordBot, fake: FakeDiscord, payload: dict[str, object]
) -> dict[str, object]:
    """Deliver an INTERACTION_CREATE; return the body of the bot's interaction response."""
    feed_event(bot, "INTERACTION_CREATE", payload)
    callback = await fake.wait_for_call("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    still = await bot.replies.wait(20)
    assert not still, "replies did not finish"
    body = callback.json
    assert isinstance(body, dict)
    return body
