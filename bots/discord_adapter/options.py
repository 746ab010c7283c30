"""The Discord adapter's settings, read from the shared Settings object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
    def from_settings(cls, settings: Any) -> DiscordOptions:
        """From config.settings.Settings; fields the config does not define yet get defaults."""

        def get(name: str, default: Any = None) -> Any:
            value = getattr(settings, name, default)
            return default if value is None else value

        token = get("discord_bot_token") or get("discord_token", "")
        if hasattr(token, "get_secret_value"):
            token = token.get_secret_value()
        shard_ids = get("discord_shard_ids")
        if isinstance(shard_ids, str):
            shard_ids = [int(part) for part in shard_ids.split(",") if part.strip()]
        guild_id = get("discord_guild_id")
        shard_count = get("discord_shard_count")
        return cls(
            token=str(token),
            guild_id=int(guild_id) if guild_id else None,
            shard_count=int(shard_count) if shard_count else None,
            shard_ids=tuple(int(i) for i in shard_ids) if shard_ids else None,
            manager_role=str(get("discord_manager_role", "")),
            edit_interval_s=float(get("discord_edit_interval_s", 1.0)),
            command_sync_file=Path(get("discord_command_sync_file", ".discord-commands.json")),
        )
