"""Start-up and shutdown: log in, run until asked to stop, finish the replies in flight."""

from __future__ import annotations

import asyncio
import logging

from bots.discord_adapter.client import DiscordBot
from bots.discord_adapter.options import DiscordOptions
from config.settings import Settings
from core.boundary import ChatPort
from core.cluster.shared import Cluster, process_name

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 20.0


async def run_discord(
    chat: ChatPort,
    settings: Settings,
    stop: asyncio.Event,
    cluster: Cluster | None = None,
    *,
    drain_timeout: float = DRAIN_TIMEOUT_S,
) -> None:
    """Run until `stop` is set, then let replies in progress finish (bounded) and disconnect."""
    options = DiscordOptions.from_settings(settings)
    if not options.token:
        raise RuntimeError("DISCORD_TOKEN is not set")
    bot = DiscordBot(chat, options, cluster)
    shards = "all shards" if options.shard_ids is None else f"shards {list(options.shard_ids)}"
    log.info(
        "discord: %s of %s, process %s",
        shards,
        options.shard_count or "auto",
        process_name(),
    )
    async with bot:
        running = asyncio.create_task(bot.start(options.token), name="discord")
        stopping = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not running.done():
                log.info("stopping Discord: finishing replies in progress")
                await bot.replies.drain(drain_timeout)
                await bot.close()
            # Re-raise a login or connection failure; a clean close returns None.
            await running
