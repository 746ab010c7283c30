"""Every reply event onto Discord: the turn streamed into a channel, notices and command
replies as plain messages, and the answer to a slash command or button press."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bots.chunking import split_message
from bots.discord_adapter.streaming import LIMIT, NO_MENTIONS, channel_id

log = logging.getLogger(__name__)


async def send_plain(
    channel: discord.abc.Messageable, text: str, *, view: discord.ui.View | None = None
) -> None:
    """A notice, command reply or failure: split like answers, never pinging anyone."""
    parts = split_message(text, LIMIT) if text.strip() else []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if last and view is not None:
            kwargs["view"] = view
        try:
            await channel.send(part, **kwargs)
        except discord.Forbidden:
            log.warning("no permission to send in channel %s", channel_id(channel))
            return
