"""Running the console in the bot's process: on its own server on PORT, or mounted on the Telegram
webhook's server when that one listens on PORT (one web server per process)."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlsplit

from aiohttp import web

from bots.web_console.app import mount, standalone_app
from bots.web_console.deps import ConsoleConfig, ConsoleDeps, build_deps
from bots.web_console.rendering import CONSOLE_PATH
from config.settings import Settings
from core.console_port import ConsolePort
from core.workbench_port import WorkbenchPort

log = logging.getLogger("bots.web_console")


def console_enabled(settings: Settings) -> bool:
    """Off unless the owner set a secret."""
    return bool(
        settings.web_console_token.get_secret_value()
        or settings.web_console_password_hash.get_secret_value()
    )


def console_deps(
    settings: Settings, core: ConsolePort, workbench: WorkbenchPort | None = None
) -> ConsoleDeps:
    return build_deps(
        core,
        settings.web_console_token.get_secret_value(),
        ConsoleConfig.of(settings),
        settings=settings,
        workbench=workbench,
        password_hash=settings.web_console_password_hash.get_secret_value(),
    )


def console_url(settings: Settings) -> str:
    """Where the owner opens it: the webhook's public host when there is one, else this
    machine's PORT."""
    if settings.telegram_webhook_url:
        parts = urlsplit(settings.telegram_webhook_url)
        return f"{parts.scheme}://{parts.netloc}{CONSOLE_PATH}/"
    return f"http://127.0.0.1:{settings.port}{CONSOLE_PATH}/"


def announce(settings: Settings) -> None:
    """Say where the console is, on stderr (stdout carries only a console chat's replies), also
    when log lines are quiet in a terminal chat."""
    print(f"web console: {console_url(settings)}", file=sys.stderr, flush=True)


class Mounter:
    """Mounts the console on another server's application (the webhook's), once per server."""

    def __init__(self, console: ConsoleDeps) -> None:
        self._console = console

    def __call__(self, parent: web.Application) -> None:
        mount(parent, self._console)


async def run_console_server(
    console: ConsoleDeps, port: int, stop: asyncio.Event, listen: str = "0.0.0.0"
) -> None:
    """The console on its own server until `stop` (a PaaS routes its public port to PORT)."""
    runner = web.AppRunner(standalone_app(console), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, listen, port).start()
        log.info("web console listening on port %s", port)
        await stop.wait()
    finally:
        await runner.cleanup()
