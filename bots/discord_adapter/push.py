"""Messages the core sends unasked (a reminder falling due): to the channel or thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
import discord

from bots.chunking import split_message
from bots.discord_adapter.streaming import LIMIT, NO_MENTIONS
from core.boundary import ConversationKey, ReplyEvent, pushed_texts

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 20.0


class DiscordPush:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
        texts = pushed_texts(events)
        try:
            # Sent right after start, a reminder waits for the login (or fails, and is retried).
            await asyncio.wait_for(self._client.wait_until_ready(), READY_TIMEOUT_S)
            # A thread is its own channel; no cache or fetch needed to post in either.
            channel = self._client.get_partial_messageable(int(key.thread_id or key.chat_id))
            for text in texts:
                for part in split_message(text, LIMIT):
                    await channel.send(part, allowed_mentions=NO_MENTIONS)
        except (discord.DiscordException, aiohttp.ClientError, OSError, ValueError) as error:
            log.warning("discord: could not send to %s: %s", key, type(error).__name__)
            return False
        except TimeoutError:
            log.warning("discord: not connected, could not send to %s", key)
            return False
        return True
