"""Each adapter runs and fails on its own: one that cannot start or loses its platform is logged
in one line and started again with backoff while the others serve.

A rejected token is permanent (Telegram's InvalidToken, Discord's LoginFailure or any 401, a
privileged intent not enabled): retrying cannot help, so that adapter stops for good and says
which setting to fix. Everything else (a platform unreachable, a timeout, a 5xx) is retried,
forever, from FIRST_DELAY_S doubling to MAX_DELAY_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from config.settings import ConfigError, Settings
from core.boundary import ChatPort

log = logging.getLogger("bots")

Runner = Callable[[ChatPort, Settings, asyncio.Event], Coroutine[Any, Any, None]]

FIRST_DELAY_S = 2.0
MAX_DELAY_S = 300.0
HEALTHY_AFTER_S = 120.0  # an adapter that ran this long before failing starts its backoff anew


@dataclass(frozen=True, slots=True)
class AdapterFailure:
    line: str  # one line: what failed and, when the owner must act, what to do
    permanent: bool
    expected: bool = True  # False: not a known platform or network fault (a bug: log its trace)


async def supervise(
    name: str, runner: Runner, chat: ChatPort, settings: Settings, stop: asyncio.Event
) -> bool:
    """Run one adapter until `stop`; False if it cannot run at all (a permanent failure)."""
    loop = asyncio.get_running_loop()
    delay = FIRST_DELAY_S
    traced = False
    while not stop.is_set():
        started = loop.time()
        try:
            await runner(chat, settings, stop)
        except Exception as error:  # one adapter's failure must not stop the others
            failure = classify(name, error)
            if failure.permanent:
                log.error("%s cannot run: %s", name, failure.line)
                return False
            if loop.time() - started > HEALTHY_AFTER_S:
                delay = FIRST_DELAY_S
            log.warning("%s: %s; trying again in %.0f s", name, failure.line, delay)
            if not failure.expected and not traced:
                traced = True  # an unknown fault is a bug: its trace once, then one line
                log.error("%s failed unexpectedly", name, exc_info=error)
        else:
            if stop.is_set() or name == "console":  # the console ends at end of input
                return True
            log.warning("%s stopped by itself; starting it again in %.0f s", name, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, MAX_DELAY_S)
    return True


def classify(name: str, error: BaseException) -> AdapterFailure:
    """Whether retrying can help, and one line saying what went wrong (never a token: the
    libraries' own messages for a rejected token may quote it)."""
    if isinstance(error, ConfigError):  # an adapter's own one line naming the setting to fix
        return AdapterFailure(str(error), permanent=True)
    if name == "telegram":
        from telegram.error import InvalidToken, NetworkError

        if isinstance(error, InvalidToken):
            return AdapterFailure(
                "Telegram rejected TELEGRAM_BOT_TOKEN: copy it again from @BotFather (and check "
                "TELEGRAM_BASE_URL if you set it)",
                permanent=True,
            )
        if isinstance(error, NetworkError):
            return AdapterFailure(f"cannot reach Telegram ({_one_line(error)})", permanent=False)
    if name == "discord":
        import aiohttp
        import discord

        if isinstance(error, discord.LoginFailure) or (
            isinstance(error, discord.HTTPException) and error.status == 401
        ):
            return AdapterFailure(
                "Discord rejected DISCORD_BOT_TOKEN: reset and copy it in the Developer Portal "
                "(Bot → Token)",
                permanent=True,
            )
        if isinstance(error, discord.PrivilegedIntentsRequired):
            return AdapterFailure(
                "Discord refused the Message Content Intent: enable it in the Developer Portal "
                "(Bot → Privileged Gateway Intents)",
                permanent=True,
            )
        if isinstance(error, discord.DiscordException | aiohttp.ClientError):
            return AdapterFailure(f"cannot reach Discord ({_one_line(error)})", permanent=False)
    if isinstance(error, OSError):  # refused, unknown host, timed out
        return AdapterFailure(f"cannot reach {name} ({_one_line(error)})", permanent=False)
    return AdapterFailure(_one_line(error), permanent=False, expected=False)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
