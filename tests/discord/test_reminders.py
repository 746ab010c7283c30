"""Reminders on Discord: run_discord offers its push, the scheduler posts a due reminder into
its thread (fake REST), and /set autocompletes parameters and time zones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bots.discord_adapter import DiscordBot, run_discord
from config.settings import Settings
from core.bootstrap import bootstrap
from core.boundary import ConversationKey
from core.storage.reminders import NewReminder
from fakes.discord_gateway import guild_payload, interaction_payload, option
from fakes.discord_rest import FakeDiscord
from tests.discord.conftest import interact

CHANNEL = 555
THREAD = 777
AUTOCOMPLETE_RESULT = 8


async def test_a_due_reminder_is_posted_in_its_thread(
    settings: Settings, discord_api: FakeDiscord, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"discord_command_sync_file": tmp_path / "commands.json"})
    discord_api.after_ready.append(("GUILD_CREATE", guild_payload()))
    stop = asyncio.Event()
    async with bootstrap(settings) as app:
        running = asyncio.create_task(run_discord(app.service, app.settings, stop))
        try:
            await asyncio.wait_for(discord_api.identified.wait(), 10)
            now = datetime.now(UTC)
            key = ConversationKey("discord", str(CHANNEL), str(THREAD))
            await app.storage.reminders.add(
                NewReminder(key, "42", "alice", "stand-up in 5", now, "UTC"), 10, now
            )
            app.reminders.poke()
            call = await discord_api.wait_for_call("POST", rf"/channels/{THREAD}/messages", 20)
            assert call.json["content"] == "⏰ Reminder for alice: stand-up in 5"
            assert call.json["allowed_mentions"] == {"parse": []}  # names no one, pings no one
            assert discord_api.channel_texts(THREAD) == ["⏰ Reminder for alice: stand-up in 5"]
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)


async def test_set_suggests_parameters_and_time_zones(
    bot: DiscordBot, discord_api: FakeDiscord
) -> None:
    parameters = await interact(
        bot,
        discord_api,
        interaction_payload(
            "set", [option("parameter", "time", focused=True)], user_id=42, autocomplete=True
        ),
    )
    assert parameters["type"] == AUTOCOMPLETE_RESULT
    assert [c["value"] for c in parameters["data"]["choices"]] == ["timezone"]

    zones = await interact(
        bot,
        discord_api,
        interaction_payload(
            "set",
            [option("parameter", "timezone"), option("value", "berl", focused=True)],
            user_id=42,
            autocomplete=True,
        ),
    )
    assert [c["value"] for c in zones["data"]["choices"]] == ["Europe/Berlin"]

    other = await interact(
        bot,
        discord_api,
        interaction_payload(
            "set",
            [option("parameter", "temperature"), option("value", "1", focused=True)],
            user_id=42,
            autocomplete=True,
        ),
    )
    assert other["data"]["choices"] == []
