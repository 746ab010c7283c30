"""Start-up and shutdown: log in, run until asked to stop, finish the replies in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bots.discord_adapter.client import DiscordBot
from bots.discord_adapter.incoming import PLATFORM
from bots.discord_adapter.options import DiscordOptions
from bots.discord_adapter.push import DiscordPush
from config.settings import Settings
from core.boundary import ChatPort, ProcessCluster, process_name

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 20.0


async def run_discord(
    chat: ChatPort,
    settings: Settings,
    stop: asyncio.Event,
    cluster: ProcessCluster | None = None,
    *,
    drain_timeout: float = DRAIN_TIMEOUT_S,
) -> None:
    """Run until `stop` is set, then let replies in progress finish (bounded) and disconnect.

    With `cluster` (several processes on PostgreSQL) one process runs a given set of shards:
    another started with the same DISCORD_SHARD_IDS (N web processes that all have the Discord
    token, say) stands by and takes over when it stops, instead of a second gateway session
    answering every message again."""
    options = DiscordOptions.from_settings(settings)
    if not options.token:
        raise RuntimeError("DISCORD_TOKEN is not set")
    if cluster is None:
        await _run(chat, options, stop, None, drain_timeout)
        return
    ids = "all" if options.shard_ids is None else ",".join(map(str, options.shard_ids))
    role = f"discord-shards {ids} of {options.shard_count or 'auto'}"
    if not await cluster.take_role(role, stop):
        return
    try:
        await _run(chat, options, stop, cluster, drain_timeout)
    finally:
        with contextlib.suppress(Exception):
            await cluster.release_role(role)


async def _run(
    chat: ChatPort,
    options: DiscordOptions,
    stop: asyncio.Event,
    cluster: ProcessCluster | None,
    drain_timeout: float,
) -> None:
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
        withdraw_push = chat.offer_push(PLATFORM, DiscordPush(bot))
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            withdraw_push()
            stopping.cancel()
            if not running.done():
                log.info("stopping Discord: finishing replies in progress")
                await bot.replies.drain(drain_timeout)
                await bot.close()
            # Re-raise a login or connection failure; a clean close returns None.
            await running
