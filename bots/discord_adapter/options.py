"""The Discord adapter's settings, taken from the shared Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings


@dataclass(frozen=True, slots=True)
class DiscordOptions:
    token: str
    guild_id: int | None = None  # sync commands to this guild only (development)
    shard_count: int | None = None  # None: let discord.py ask Discord how many shards
    shard_ids: tuple[int, ...] | None = None
    manager_role: str = ""  # role name or id that counts as "can manage", besides Manage Server
    edit_interval_s: float = 1.0  # minimum time between two edits of one streamed message
    command_sync_file: Path = Path(".discord-commands.json")

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordOptions:
        return cls(
            token=settings.discord_bot_token.get_secret_value(),
            guild_id=settings.discord_guild_id,
            shard_count=settings.discord_shard_count,
            shard_ids=settings.discord_shard_ids,
            manager_role=settings.discord_manager_role.strip(),
            edit_interval_s=settings.discord_edit_interval_s,
            command_sync_file=settings.discord_command_sync_file,
        )
