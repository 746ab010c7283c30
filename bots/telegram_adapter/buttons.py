"""Inline buttons for a command reply's choices, and the command a pressed button stands for.

Callback data comes back from the client, and any client can send any data for any button, so
a press counts only when its data is something this bot issued: a command with the bot's
signature, or a token for a long command it remembers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.boundary import Choice

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
SIGNATURE_CHARS = 16  # 96 bits of HMAC-SHA256, base64url: not guessable through the bot
SEPARATOR = "|"  # signatures are base64url, so the last "|" always ends the command


def signing_key(bot_token: str) -> bytes:
    """A key derived from the bot token: stable across restarts (old buttons keep working),
    never the token itself, and different for every bot."""
    return hashlib.sha256(f"callback-data:{bot_token}".encode()).digest()


class ChoiceButtons:
    """Inline keyboards for CommandReply.choices.

    A button's callback_data is its command plus an HMAC signature when that fits Telegram's 64
    bytes; longer ones (e.g. Korean persona names) get a short token remembered in a bounded
    map (forgotten at a restart: such a button then does nothing).
    """

    TOKEN_PREFIX = "#c:"  # commands start with "/", so tokens never collide with them

    def __init__(self, key: bytes, remembered: int = 4096) -> None:
        self._key = key
        self._long: OrderedDict[str, str] = OrderedDict()
        self._remembered = remembered
        self._tokens = itertools.count(1)

    def keyboard(self, choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
        if not choices:
            return None
        buttons = [
            InlineKeyboardButton(choice.label or choice.command, callback_data=self._data(choice))
            for choice in choices
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        return InlineKeyboardMarkup(rows)

    def command_for(self, data: str) -> str | None:
        """The command a pressed button stands for; None for data this bot did not issue (or a
        long one it has forgotten)."""
        if data.startswith(self.TOKEN_PREFIX):
            return self._long.get(data)
        command, separator, signature = data.rpartition(SEPARATOR)
        if not separator or not hmac.compare_digest(signature, self._sign(command)):
            return None
        return command

    def _data(self, choice: Choice) -> str:
        signed = f"{choice.command}{SEPARATOR}{self._sign(choice.command)}"
        if len(signed.encode()) <= MAX_CALLBACK_BYTES:
            return signed
        token = f"{self.TOKEN_PREFIX}{next(self._tokens)}"
        self._long[token] = choice.command
        while len(self._long) > self._remembered:
            self._long.popitem(last=False)
        return token

    def _sign(self, command: str) -> str:
        digest = hmac.new(self._key, command.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]
