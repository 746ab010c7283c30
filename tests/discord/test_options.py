"""The adapter's settings come from the shared Settings (environment variables)."""

from __future__ import annotations

from pathlib import Path

from bots.discord_adapter import DiscordOptions
from config.settings import Settings


def test_options_from_settings():
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_bot_token="secret",
        discord_guild_id="123",
        discord_shard_count="4",
        discord_shard_ids="0,2",
        discord_manager_role="Bot Admins",
        discord_edit_interval_s="1.5",
        discord_command_sync_file="var/commands.json",
    )

    assert DiscordOptions.from_settings(settings) == DiscordOptions(
        token="secret",
        guild_id=123,
        shard_count=4,
        shard_ids=(0, 2),
        manager_role="Bot Admins",
        edit_interval_s=1.5,
        command_sync_file=Path("var/commands.json"),
    )


def test_defaults():
    options = DiscordOptions.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert options.guild_id is None and options.shard_count is None and options.shard_ids is None
    assert options.edit_interval_s == 1.0
