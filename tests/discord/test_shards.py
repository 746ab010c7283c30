"""Discord shards over several processes on one PostgreSQL database (issue 15): each process
identifies only its DISCORD_SHARD_IDS, the slash commands are synced once for all of them, and
a process started with shards another one already runs stands by."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bots.discord_adapter import run_discord
from config.settings import normalize_database_url
from core.bootstrap import bootstrap
from fakes.discord_rest import FakeDiscord
from fakes.openai_server import FakeOpenAI
from tests.conftest import POSTGRES_URL, _reset_postgres
from tests.discord.conftest import discord_settings


async def test_two_shard_processes_identify_their_own_shard_and_sync_commands_once(
    discord_api: FakeDiscord,
    llm: FakeOpenAI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    # With a shard count given, discord.py skips GET /gateway/bot and dials Discord's gateway.
    gateway = discord_api.base_url.replace("http://", "ws://").removesuffix("/api/v10")
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"{gateway}/gateway"))
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)

    def shard(ids: str, sync_file: str) -> object:
        # Each its own sync file, as on two machines: only the database is shared.
        return discord_settings(
            tmp_path,
            llm,
            database_url=url,
            discord_shard_count=2,
            discord_shard_ids=ids,
            discord_command_sync_file=tmp_path / sync_file,
        )

    first_settings, second_settings = shard("0", "a.json"), shard("1", "b.json")
    stop = asyncio.Event()
    async with (
        bootstrap(first_settings) as first,  # type: ignore[arg-type]
        bootstrap(second_settings) as second,  # type: ignore[arg-type]
        bootstrap(first_settings) as spare,  # type: ignore[arg-type]
    ):
        assert first.cluster and second.cluster and spare.cluster
        running = [
            asyncio.create_task(run_discord(app.service, app.settings, stop, app.cluster))
            for app in (first, second)
        ]
        for _ in range(200):
            if len(discord_api.calls_to("IDENTIFY", "/gateway")) == 2:
                break
            await asyncio.sleep(0.05)
        shards = sorted(c.json["shard"] for c in discord_api.calls_to("IDENTIFY", "/gateway"))
        assert shards == [[0, 2], [1, 2]]
        for _ in range(100):
            if discord_api.commands:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the other process's setup has run by now too
        synced = discord_api.calls_to("PUT", r"/applications/\d+(/guilds/\d+)?/commands")
        assert len(synced) == 1  # once for the deploy, not once per process

        with caplog.at_level(logging.WARNING, logger="core.cluster"):
            spare_task = asyncio.create_task(
                run_discord(spare.service, spare.settings, stop, spare.cluster)
            )
            for _ in range(100):
                if any("standing by" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
        assert any(
            "another process is already the discord-shards 0 of 2" in r.getMessage()
            for r in caplog.records
        )
        assert len(discord_api.calls_to("IDENTIFY", "/gateway")) == 2  # the spare did not
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running, spare_task), 20)
