"""The discord.py client: events in, the core's replies out."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bots.discord_adapter import slash, texts
from bots.discord_adapter.command_sync import sync_commands
from bots.discord_adapter.delivery import send_plain
from bots.discord_adapter.incoming import conversation_key, to_incoming
from bots.discord_adapter.options import DiscordOptions
from bots.discord_adapter.streaming import NO_MENTIONS, StreamingMessage, typing_indicator
from core.boundary import (
    AnswerDelta,
    AnswerDone,
    CommandReply,
    Failure,
    IncomingMessage,
    Notice,
)

if TYPE_CHECKING:
    from core.boundary import ChatPort

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
    def __init__(self, service: ChatPort, options: DiscordOptions, **client_options: Any):
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
        self.tree: app_commands.CommandTree[DiscordBot] = app_commands.CommandTree(self)
        slash.install(self.tree, self)
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._accepting = True

    async def setup_hook(self) -> None:
        await self.tree.set_translator(texts.CatalogTranslator(slash.core_korean()))
        try:
            await sync_commands(self.tree, self.options, application_id=self.application_id)
        except discord.HTTPException:
            # Chat still works without slash commands (e.g. invited without applications.commands).
            log.exception("could not register the slash commands")

    async def on_message(self, message: discord.Message) -> None:
        if not self._accepting or self.user is None:
            return
        with self.tracked():
            try:
                channel = await self._resolve_channel(message)
                incoming = to_incoming(
                    message, self.user, manager_role=self.options.manager_role, channel=channel
                )
                if incoming is None:
                    return
                reference = message if message.guild is not None and incoming.addressed else None
                if isinstance(channel, discord.Thread) and channel.owner_id == self.user.id:
                    reference = None  # in its own thread the bot answers everything: no quoting
                await self.deliver(incoming, channel, reference=reference)
            except Exception:
                log.exception("failed to answer Discord message %s", message.id)

    async def deliver(
        self,
        incoming: IncomingMessage,
        channel: Any,
        *,
        reference: discord.Message | None = None,
    ) -> None:
        """Hand one message to the core and put every reply event into `channel`."""
        stream: StreamingMessage | None = None
        async with AsyncExitStack() as stack:
            if incoming.addressed:
                await stack.enter_async_context(typing_indicator(channel))
            try:
                async for event in self.service.handle(incoming):
                    if isinstance(event, AnswerDelta | AnswerDone) and stream is None:
                        stream = StreamingMessage(
                            channel, interval=self.options.edit_interval_s, reference=reference
                        )
                    if isinstance(event, AnswerDelta):
                        assert stream is not None
                        stream.add(event.text)
                    elif isinstance(event, AnswerDone):
                        assert stream is not None
                        await stream.finish(event.text)
                        stream = None
                    elif isinstance(event, CommandReply):
                        view = slash.ChoiceButtons(self, event.choices) if event.choices else None
                        await send_plain(channel, event.text, view=view)
                    elif isinstance(event, Notice | Failure):
                        await send_plain(channel, event.text)
            except asyncio.CancelledError:
                if stream is not None:
                    await stream.abort()
                raise
            finally:
                if stream is not None and not stream.finishing:
                    # The core stopped without a final answer: keep what was streamed.
                    await stream.finish(stream.streamed)

    async def open_chat_thread(self, interaction: discord.Interaction, topic: str | None) -> None:
        """/chat: a public thread the bot owns and answers in, remembered by the core."""
        with self.tracked():
            await self._open_chat_thread(interaction, topic)

    async def _open_chat_thread(self, interaction: discord.Interaction, topic: str | None) -> None:
        channel = interaction.channel
        locale = interaction.locale
        if not isinstance(channel, discord.TextChannel):
            await interaction.response.send_message(
                texts.text("chat_needs_channel", locale), ephemeral=True
            )
            return
        name = (topic or texts.text("thread_name", locale)).strip()[:100]
        try:
            thread = await channel.create_thread(
                name=name, type=discord.ChannelType.public_thread, auto_archive_duration=1440
            )
        except discord.HTTPException:
            log.warning("could not open a thread in channel %s", channel.id, exc_info=True)
            await interaction.response.send_message(
                texts.text("thread_failed", locale), ephemeral=True
            )
            return
        await interaction.response.send_message(
            texts.text("thread_opened", locale, thread=thread.mention),
            allowed_mentions=NO_MENTIONS,
        )
        # The bot, not the user, decides that its own thread answers everything.
        await self.service.set_answer_all(conversation_key(thread), True)
        if topic:
            first = slash.incoming_from_interaction(
                interaction, topic, self.options.manager_role, channel=thread
            )
            await self.deliver(first, thread)

    async def drain(self, within_s: float) -> None:
        """Stop taking new messages and wait (up to `within_s`) for replies in progress."""
        self._accepting = False
        for task in await self.wait_for_replies(within_s):
            log.warning("reply still running after %.0f s; cancelling it", within_s)
            task.cancel()

    async def wait_for_replies(self, within_s: float) -> set[asyncio.Task[Any]]:
        """Wait for the replies in progress (and any they start); returns those still running."""
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            await asyncio.sleep(0)  # let events dispatched just now start their tasks
            pending = {task for task in self._in_flight if not task.done()}
            remaining = deadline - asyncio.get_running_loop().time()
            if not pending or remaining <= 0:
                return pending
            await asyncio.wait(pending, timeout=remaining)

    def tracked(self) -> _InFlight:
        return _InFlight(self._in_flight)

    async def _resolve_channel(self, message: discord.Message) -> Any:
        """A thread the cache has not seen arrives as a PartialMessageable: fetch it once."""
        channel = message.channel
        if isinstance(channel, discord.PartialMessageable) and message.guild is not None:
            found: Any = message.guild.get_channel_or_thread(channel.id)
            if found is None:
                try:
                    found = await self.fetch_channel(channel.id)
                except discord.HTTPException:
                    return channel
            return found
        return channel


class _InFlight:
    """Counts the current task as a reply in progress while the block runs."""

    def __init__(self, tasks: set[asyncio.Task[Any]]) -> None:
        self._tasks = tasks
        self._task: asyncio.Task[Any] | None = None

    def __enter__(self) -> None:
        self._task = asyncio.current_task()
        if self._task is not None:
            self._tasks.add(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._tasks.discard(self._task)
