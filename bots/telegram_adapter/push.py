"""Messages the core sends unasked (a reminder falling due): to the chat, in its forum topic."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot
from telegram.error import TelegramError

from bots.chunking import split_message, utf16_len
from bots.telegram_adapter.bot_api import Outbox
from bots.telegram_adapter.formatting import plain
from core.boundary import ConversationKey, ReplyEvent, pushed_texts

log = logging.getLogger(__name__)

MAX_UTF16 = 4096


class TelegramPush:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
        texts = pushed_texts(events)
        try:
            outbox = Outbox(self._bot, int(key.chat_id), int(key.thread_id or 0) or None)
            for text in texts:
                # Plain text: a reminder quotes what a user wrote, not Markdown meant for us.
                for part in split_message(text, MAX_UTF16, utf16_len):
                    await outbox.send(plain(part), part)
        except (TelegramError, ValueError) as error:  # blocked, chat gone, bad id, network
            log.warning("telegram: could not send to %s: %s", key, type(error).__name__)
            return False
        return True
