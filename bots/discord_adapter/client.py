"""The discord.py client: its intents and command tree, and events forwarded to the handlers."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bots.discord_adapter.command_sync import sync_commands
from bots.discord_adapter.commands import install_commands
from bots.discord_adapter.handlers import DiscordHandlers
from bots.discord_adapter.options import DiscordOptions
from bots.discord_adapter.streaming import NO_MENTIONS
from bots.discord_adapter.texts import CatalogTranslator
from bots.inflight import RepliesInFlight
from core.boundary import ChatPort, ProcessCluster

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """The minimum: servers and their channels/threads, messages in them and in DMs, and text."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True  # privileged: enable it in the Developer Portal
    return wanted


class DiscordBot(discord.AutoShardedClient):
    """The client; `replies` are the replies in flight, which shutdown drains."""

    def __init__(
        self,
        service: ChatPort,
        options: DiscordOptions,
        cluster: ProcessCluster | None = None,
        **client_options: Any,
    ):
        if options.shard_ids is not None:
            client_options["shard_ids"] = list(options.shard_ids)
        super().__init__(
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            shard_count=options.shard_count,
            # Longer rate limits surface as RateLimited, so a stream backs off instead of stalling.
            max_ratelimit_timeout=30.0,
            **client_options,
        )
        self.service = service
        self.options = options
        self.cluster = cluster
        self.replies = RepliesInFlight()
        self.handlers = DiscordHandlers(self, service, options, self.replies)
        self.tree: app_commands.CommandTree[DiscordBot] = app_commands.CommandTree(self)
        install_commands(
            self.tree,
            service,
            manager_role=options.manager_role,
            run_command=self.handlers.answer_interaction,
            open_thread=self.handlers.open_chat_thread,
        )

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator())
        try:
            await sync_commands(
                self.tree, self.options, application_id=self.application_id, cluster=self.cluster
            )
        except discord.HTTPException:
            # Chat still works without slash commands (e.g. invited without applications.commands).
            log.exception("could not register the slash commands")

    async def on_message(self, message: discord.Message) -> None:
        await self.handlers.on_message(message)
