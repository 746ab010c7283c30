"""Discord adapter: DMs, mentions, replies and /chat threads into the core; streamed replies out.

`run_discord(chat, settings, stop)` is the entry point `python -m bots` calls.
"""

from __future__ import annotations

from bots.discord_adapter.client import DiscordBot
from bots.discord_adapter.options import DiscordOptions
from bots.discord_adapter.startup import run_discord

__all__ = ["DiscordBot", "DiscordOptions", "run_discord"]
