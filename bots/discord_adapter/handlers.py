"""Event handling: a message answered in its channel, a slash command or button press answered
within Discord's deadline, and /chat opening a thread; every reply counted while in flight."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, Final

import discord

from bots.discord_adapter.delivery import (
    respond_to_interaction,
    stream_into_channel,
    with_retries,
)
from bots.discord_adapter.incoming import (
    conversation_key,
    interaction_to_incoming,
    message_to_incoming,
)
from bots.discord_adapter.options import DiscordOptions
from bots.discord_adapter.streaming import NO_MENTIONS
from bots.discord_adapter.texts import adapter_text
from bots.inflight import RepliesInFlight
from core.boundary import ChatPort, IncomingMessage, ReplyEvent

log = logging.getLogger(__name__)

RESPOND_WITHIN_S = 2.0  # Discord drops an interaction not answered within 3 s: defer before that
THREAD_NAME_MAX = 100
THREAD_ARCHIVE_MINUTES: Final = 1440  # a day without messages


class DiscordHandlers:
    """What the client does with each event; `replies` is what shutdown drains."""

    def __init__(
        self,
        client: discord.Client,
        chat: ChatPort,
        options: DiscordOptions,
        replies: RepliesInFlight,
    ) -> None:
        self.client = client
        self.chat = chat
        self.options = options
        self.replies = replies

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if not self.replies.accepting or me is None:
            return
        with self.replies.tracked():
            try:
                channel = await self._resolve_channel(message)
                incoming = message_to_incoming(
                    message, me, manager_role=self.options.manager_role, channel=channel
                )
                if incoming is None:
                    return
                reference = message if not incoming.is_private and incoming.addressed else None
                if isinstance(channel, discord.Thread) and channel.owner_id == me.id:
                    reference = None  # in its own thread the bot answers everything: no quoting
                await self._reply_in_channel(incoming, channel, reference=reference)
            except Exception:
                log.exception("failed to answer Discord message %s", message.id)

    async def answer_interaction(self, interaction: discord.Interaction, command: str) -> None:
        """Run `command` through the core and answer the interaction; errors only for the user."""
        with self.replies.tracked():
            incoming = interaction_to_incoming(interaction, command, self.options.manager_role)
            collecting = asyncio.ensure_future(self._collect(incoming))
            done, _pending = await asyncio.wait({collecting}, timeout=RESPOND_WITHIN_S)
            deferred = not done
            if deferred:
                await with_retries(
                    partial(interaction.response.defer, thinking=True),
                    f"the response to interaction {interaction.id}",
                )
            await respond_to_interaction(
                interaction,
                await collecting,
                deferred=deferred,
                on_press=self.answer_interaction,
            )

    async def open_chat_thread(self, interaction: discord.Interaction, topic: str | None) -> None:
        """/chat: a public thread the bot owns and answers in, remembered by the core."""
        with self.replies.tracked():
            await self._open_chat_thread(interaction, topic)

    async def _open_chat_thread(self, interaction: discord.Interaction, topic: str | None) -> None:
        channel = interaction.channel
        locale = interaction.locale
        if not isinstance(channel, discord.TextChannel):
            await interaction.response.send_message(
                adapter_text("chat_needs_channel", locale), ephemeral=True
            )
            return
        refusal = await self._thread_refusal(interaction, topic)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        name = (topic or adapter_text("thread_name", locale)).strip()[:THREAD_NAME_MAX]
        try:
            thread = await channel.create_thread(
                name=name,
                type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException:
            log.warning("could not open a thread in channel %s", channel.id, exc_info=True)
            await interaction.response.send_message(
                adapter_text("thread_failed", locale), ephemeral=True
            )
            return
        await interaction.response.send_message(
            adapter_text("thread_opened", locale, thread=thread.mention),
            allowed_mentions=NO_MENTIONS,
        )
        # The bot, not the user, decides that its own thread answers everything.
        await self.chat.set_answer_all(conversation_key(thread), True)
        if topic:
            first = interaction_to_incoming(
                interaction, topic, self.options.manager_role, channel=thread
            )
            await self._reply_in_channel(first, thread)

    async def _thread_refusal(
        self, interaction: discord.Interaction, topic: str | None
    ) -> str | None:
        """Why this member may not have the bot open a thread here, or None.

        The bot must not create what the member could not: Discord's own permission, resolved
        for this member in this channel. Who may use the bot at all, and their budgets, are the
        core's to say.
        """
        permissions = interaction.permissions
        if not (permissions.create_public_threads and permissions.send_messages_in_threads):
            return adapter_text("thread_not_permitted", interaction.locale)
        asking = interaction_to_incoming(interaction, topic or "", self.options.manager_role)
        refused = await self.chat.thread_refusal(asking)
        return refused.text if refused is not None else None

    async def _reply_in_channel(
        self,
        incoming: IncomingMessage,
        channel: Any,
        *,
        reference: discord.Message | None = None,
    ) -> None:
        """Hand one message to the core and put every reply event into `channel`."""
        await stream_into_channel(
            self.chat.handle(incoming),
            channel,
            on_press=self.answer_interaction,
            edit_interval_s=self.options.edit_interval_s,
            reference=reference,
        )

    async def _collect(self, incoming: IncomingMessage) -> list[ReplyEvent]:
        return [event async for event in self.chat.handle(incoming)]

    async def _resolve_channel(self, message: discord.Message) -> Any:
        """A thread the cache has not seen arrives as a PartialMessageable: fetch it once."""
        channel = message.channel
        if isinstance(channel, discord.PartialMessageable) and message.guild is not None:
            found: Any = message.guild.get_channel_or_thread(channel.id)
            if found is None:
                try:
                    found = await self.client.fetch_channel(channel.id)
                except discord.HTTPException:
                    return channel
            return found
        return channel
