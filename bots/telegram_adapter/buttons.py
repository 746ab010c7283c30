"""Inline buttons for a command reply's choices, and the command a pressed button stands for."""

from __future__ import annotations

import itertools
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.boundary import Choice

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data


class ChoiceButtons:
    """Inline keyboards for CommandReply.choices.

    A button's callback_data is the choice's command itself when it fits Telegram's 64 bytes;
    longer ones (e.g. Korean persona names) get a short token remembered in a bounded map.
    """

    TOKEN_PREFIX = "#c:"  # commands start with "/", so tokens never collide with them

    def __init__(self, remembered: int = 4096) -> None:
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
        """The command a pressed button stands for; None for a forgotten long one."""
        if data.startswith(self.TOKEN_PREFIX):
            return self._long.get(data)
        return data

    def _data(self, choice: Choice) -> str:
        if len(choice.command.encode()) <= MAX_CALLBACK_BYTES:
            return choice.command
        token = f"{self.TOKEN_PREFIX}{next(self._tokens)}"
        self._long[token] = choice.command
        while len(self._long) > self._remembered:
            self._long.popitem(last=False)
        return token
