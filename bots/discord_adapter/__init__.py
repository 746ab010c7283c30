"""Discord adapter: DMs, mentions, replies and /chat threads into the core; streamed replies out.

`run_discord(chat, settings, stop)` is the entry point `python -m bots` calls.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bots.discord_adapter.client import DiscordBot
from bots.discord_adapter.options import DiscordOptions

if TYPE_CHECKING:
    from config.settings import Settings
    from core.boundary import ChatPort

__all__ = ["DiscordBot", "DiscordOptions", "run_discord"]

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 20.0


async def run_discord(
    chat: ChatPort,
    settings: Settings,
    stop: asyncio.Event,
    *,
    drain_timeout: float = DRAIN_TIMEOUT_S,
) -> None:
    """Run until `stop` is set, then let replies in progress finish (bounded) and disconnect."""
    options = DiscordOptions.from_settings(settings)
    if not options.token:
        raise RuntimeError("DISCORD_TOKEN is not set")
    bot = DiscordBot(chat, options)
    async with bot:
        running = asyncio.create_task(bot.start(options.token), name="discord")
        stopping = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not running.done():
                log.info("stopping Discord: finishing replies in progress")
                await bot.drain(drain_timeout)
                await bot.close()
            # Re-raise a login or connection failure; a clean close returns None.
            await running
