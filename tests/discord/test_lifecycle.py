"""run_discord end to end: log in, connect to the (fake) gateway, answer, and stop cleanly with
the reply in progress finished."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from bots.discord_adapter import run_discord
from config.settings import Settings
from core.bootstrap import bootstrap
from fakes.discord_gateway import guild_payload, message_payload
from fakes.discord_rest import FakeDiscord
from fakes.openai_server import FakeOpenAI, FakeReply

DM_CHANNEL = 4444


async def test_stop_waits_for_the_reply_in_progress(
    settings: Settings, discord_api: FakeDiscord, llm: FakeOpenAI, tmp_path: Path
):
    settings = settings.model_copy(
        update={
            "discord_edit_interval_s": 0.2,
            "discord_command_sync_file": tmp_path / "commands.json",
        }
    )
    answer = " ".join(f"word{i}" for i in range(60))
    llm.responder = lambda body: FakeReply(answer, chunk_size=10, chunk_delay_s=0.05)
    discord_api.after_ready.append(("GUILD_CREATE", guild_payload()))
    stop = asyncio.Event()

    async with bootstrap(settings) as app:
        running = asyncio.create_task(run_discord(app.service, app.settings, stop))
        await asyncio.wait_for(discord_api.identified.wait(), 10)
        [identify] = discord_api.calls_to("IDENTIFY", "/gateway")
        assert identify.json["intents"] == (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15)

        await discord_api.dispatch(
            "MESSAGE_CREATE",
            message_payload("hello", author_id=42, channel_id=DM_CHANNEL, guild=False),
        )
        await discord_api.wait_for_call("POST", rf"/channels/{DM_CHANNEL}/messages")
        stop.set()  # mid-answer: the stream has started but not finished
        await asyncio.wait_for(running, 20)

        assert discord_api.channel_texts(DM_CHANNEL) == [answer]
        await asyncio.wait_for(discord_api.gateway_closed.wait(), 5)


async def test_a_bad_token_fails_loudly(settings: Settings, discord_api: FakeDiscord):
    discord_api.fail_next("GET", "/users/@me", 401)

    async with bootstrap(settings) as app:
        with pytest.raises(discord.LoginFailure):
            await asyncio.wait_for(run_discord(app.service, app.settings, asyncio.Event()), 10)
