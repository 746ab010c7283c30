"""The core's chat commands in Telegram's command menu, per audience and language."""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

from core.commands.catalog import COMMANDS, CommandSpec, command_description

log = logging.getLogger(__name__)

MENU_LANGUAGES = ("en", "ko")  # "en" is also the default menu for every other language
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
