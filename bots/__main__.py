"""`python -m bots [all|console|telegram|discord]`: start the bot."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bots.logging_setup import configure_logging, redact_uncaught_exceptions
from config.settings import ConfigError, Settings, load_settings
from core.bootstrap import bootstrap
from core.boundary import ChatPort

log = logging.getLogger("bots")
Runner = Callable[[ChatPort, Settings, asyncio.Event], Coroutine[Any, Any, None]]
USAGE = "usage: python -m bots [all|console|telegram|discord]"
BACKSTOP_MARGIN_S = 2.0


def choose_adapters(settings: Settings, which: str) -> dict[str, Runner]:
    """The adapters to run: the one asked for, or every one with a token (console if none)."""
    from bots.console import run_console

    available: dict[str, Runner] = {"console": run_console}
    if which in ("all", "telegram") and settings.telegram_bot_token.get_secret_value():
        from bots.telegram_adapter import run_telegram

        available["telegram"] = run_telegram
    if which in ("all", "discord") and settings.discord_bot_token.get_secret_value():
        from bots.discord_adapter import run_discord

        available["discord"] = run_discord
    if which == "all":
        platforms = {k: v for k, v in available.items() if k != "console"}
        return platforms or {"console": run_console}
    if which not in available:
        variable = f"{which.upper()}_BOT_TOKEN"
        raise ConfigError(f"{variable}: is not set, so the {which} adapter cannot start")
    return {which: available[which]}


async def serve(settings: Settings, which: str) -> None:
    adapters = choose_adapters(settings, which)
    if (
        list(adapters) == ["console"]
        and sys.stdin.isatty()
        and "log_level" not in (settings.model_fields_set)
    ):
        # Turn log lines would interleave with the chat in a terminal.
        logging.getLogger().setLevel(logging.WARNING)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if not settings.openai_api_key.get_secret_value() and settings.openai_base_url is None:
        log.warning("OPENAI_API_KEY is not set: answers will fail until it is (see .env.example)")
    async with bootstrap(settings) as app:
        log.info("starting %s", ", ".join(adapters))
        async with asyncio.TaskGroup() as group:
            runners = [
                group.create_task(runner(app.service, settings, stop))
                for runner in adapters.values()
            ]
            watchdog = group.create_task(_end_after_grace(stop, runners, settings.shutdown_grace_s))
            await asyncio.wait(runners)
            watchdog.cancel()
        log.info("stopped")


async def _end_after_grace(
    stop: asyncio.Event, runners: list[asyncio.Task[None]], grace_s: float
) -> None:
    """After SIGTERM, adapters finish replies in flight; past the grace period they are cut off
    (a PaaS kills the process soon after anyway, and a clean exit closes the database)."""
    await stop.wait()
    # Adapters end their own replies at the grace limit; this is the backstop for one that
    # does not stop, so it must not cut an adapter off in the middle of doing that.
    await asyncio.sleep(grace_s + BACKSTOP_MARGIN_S)
    if any(not runner.done() for runner in runners):
        log.warning(
            "still busy %.0f s after the stop signal: ending replies in flight",
            grace_s + BACKSTOP_MARGIN_S,
        )
        for runner in runners:
            runner.cancel()


def main(argv: list[str] | None = None) -> int:
    redact_uncaught_exceptions()  # issue 11 item 8: no traceback prints a secret
    args = sys.argv[1:] if argv is None else argv
    which = args[0] if args else "all"
    if which not in ("all", "console", "telegram", "discord") or len(args) > 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        configure_logging(settings)
        asyncio.run(serve(settings, which))
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
