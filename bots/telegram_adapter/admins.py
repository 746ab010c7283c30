"""Who may change a group's settings: Telegram chat admins, looked up and briefly cached."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger(__name__)


class AdminCache:
    """Admin ids per chat from getChatAdministrators, kept `ttl_s` seconds, at most `max_chats`.

    One call answers for everyone in the chat, and the short expiry means a newly promoted or
    demoted admin is recognised within a minute.
    """

    def __init__(self, bot: Bot, ttl_s: float = 60.0, max_chats: int = 1024) -> None:
        self._bot = bot
        self._ttl_s = ttl_s
        self._max_chats = max_chats
        self._admins: OrderedDict[int, tuple[float, frozenset[int]]] = OrderedDict()

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        admins = await self._lookup(chat_id)
        return user_id in admins

    async def _lookup(self, chat_id: int) -> frozenset[int]:
        now = time.monotonic()
        cached = self._admins.get(chat_id)
        if cached is not None and cached[0] > now:
            self._admins.move_to_end(chat_id)
            return cached[1]
        try:
            members = await self._bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.warning("getChatAdministrators(%s) failed: %s", chat_id, exc)
            return frozenset()  # deny rather than guess; not cached, so the next try asks again
        admins = frozenset(member.user.id for member in members)
        self._admins[chat_id] = (now + self._ttl_s, admins)
        self._admins.move_to_end(chat_id)
        while len(self._admins) > self._max_chats:
            self._admins.popitem(last=False)
        return admins
