"""The core's chat commands on Telegram: the command menu and inline buttons for choices."""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

from core.boundary import Choice
from core.commands.catalog import COMMANDS, CommandSpec, command_description

log = logging.getLogger(__name__)

MENU_LANGUAGES = ("en", "ko")  # "en" is also the default menu for every other language
MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
_DESCRIPTION_LIMIT = 256


def menu(language: str, specs: tuple[CommandSpec, ...] = COMMANDS) -> list[BotCommand]:
    """The command menu in one language; usage goes first so people see the arguments."""
    commands = []
    for spec in specs:
        description = command_description(spec.name, language)
        if spec.usage:
            description = f"{spec.usage} — {description}"
        commands.append(BotCommand(spec.name, description[:_DESCRIPTION_LIMIT]))
    return commands


def menus() -> list[tuple[BotCommandScope, tuple[CommandSpec, ...]]]:
    """Which commands each audience sees in its menu.

    Everyone sees every command in private chats (where they manage their own chat) and chat
    admins see them all in groups; other group members are not offered the admin-only ones.
    Typing a command still works everywhere; the core decides who may change what.
    """
    everyday = tuple(spec for spec in COMMANDS if not spec.admin_only)
    return [
        (BotCommandScopeDefault(), COMMANDS),
        (BotCommandScopeAllGroupChats(), everyday),
        (BotCommandScopeAllChatAdministrators(), COMMANDS),
    ]


async def register_commands(bot: ExtBot[None]) -> None:
    """setMyCommands for each audience, by default in English and again in Korean."""
    for scope, specs in menus():
        for language in MENU_LANGUAGES:
            try:
                await bot.set_my_commands(
                    menu(language, specs),
                    scope=scope,
                    language_code=None if language == "en" else language,
                )
            except TelegramError as exc:  # a missing menu is no reason not to start
                log.warning("setMyCommands(%s, %s) failed: %s", scope.type, language, exc)


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
