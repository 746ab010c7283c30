"""`python -m bots [all|web|console|telegram|discord]`: start the bot; `python -m bots models
--check`: compare the model catalog with what each provider lists; `python -m bots
console-password`: hash a password for the web console (WEB_CONSOLE_PASSWORD_HASH).

`web` is `all` for a PaaS web process (the Procfile's `web:`): Telegram by webhook on PORT, so it
refuses to start without TELEGRAM_WEBHOOK_URL instead of polling where a port is expected.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import os
import signal
import sys
from typing import Any, NoReturn, cast

from bots.heap import frozen_startup_heap
from bots.logging_setup import configure_logging, redact_uncaught_exceptions
from bots.supervisor import Runner, supervise
from config.settings import ConfigError, Settings, load_settings
from config.startup_warnings import PAAS_MARKERS, startup_warnings
from core.bootstrap import App, bootstrap, open_providers
from core.boundary import ChatPort, process_name
from core.model.catalog import ModelCatalog
from core.model.catalog_check import check_catalog, report
from core.model.routes import ProviderRoutes

log = logging.getLogger("bots")
MODES = ("all", "web", "console", "telegram", "discord")
USAGE = (
    f"usage: python -m bots [{'|'.join(MODES)}], python -m bots models --check, or python -m "
    "bots console-password"
)
BACKSTOP_MARGIN_S = 2.0
NO_PLATFORM = (
    "TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN: neither is set, and there is no terminal or "
    "piped input for the console chat: set at least one of them"
)

NO_WEBHOOK = (
    "TELEGRAM_WEBHOOK_URL: not set, and the web process answers Telegram by webhook: set it to "
    "https://<your app's host>/telegram, or run the worker process instead (long polling)"
)


def choose_adapters(settings: Settings, which: str) -> dict[str, Runner]:
    """The adapters to run: the one asked for, or every one with a token (console if none)."""
    from bots.console import run_console

    if which == "web":
        if not settings.telegram_webhook_url:
            raise ConfigError(NO_WEBHOOK)
        which = "all"
    available: dict[str, Runner] = {"console": run_console}
    if which in ("all", "telegram") and settings.telegram_bot_token.get_secret_value():
        from bots.telegram_adapter import run_telegram

        available["telegram"] = run_telegram
    if which in ("all", "discord") and settings.discord_bot_token.get_secret_value():
        from bots.discord_adapter import run_discord

        available["discord"] = run_discord
    if which == "all":
        platforms = {k: v for k, v in available.items() if k != "console"}
        if platforms:
            return platforms
        # A worker without a token would otherwise chat with an empty stdin and exit 0: a
        # PaaS restart loop without a word of why.
        if not _console_has_input():
            raise ConfigError(NO_PLATFORM)
        return {"console": run_console}
    if which not in available:
        variable = f"{which.upper()}_BOT_TOKEN"
        raise ConfigError(f"{variable}: is not set, so the {which} adapter cannot start")
    return {which: available[which]}


def _console_has_input() -> bool:
    """A terminal, or piped input that is not empty (waits for the first byte or its end)."""
    if sys.stdin is None:
        return False
    try:
        if sys.stdin.isatty():
            return True
        if any(marker in os.environ for marker in PAAS_MARKERS):
            return False  # a PaaS worker's stdin is never a chat
        buffer = sys.stdin.buffer
        return not isinstance(buffer, io.BufferedReader) or bool(buffer.peek(1))
    except (OSError, ValueError, AttributeError):
        return False


async def serve(settings: Settings, which: str) -> int:
    """Run the adapters until SIGTERM (or the console's end of input); the exit code: 1 when no
    adapter could run at all."""
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
    for warning in startup_warnings(settings, os.environ):
        log.warning("%s", warning)
    async with bootstrap(settings) as app:
        log.info("%s", startup_line(settings, which, adapters, app.cluster is not None))
        console_stop = asyncio.Event()
        web_console = _web_console(settings, app, adapters, console_stop)
        if app.cluster is not None:
            # The adapters that coordinate with other processes get the shared locks and inbox.
            adapters = {
                name: cast(Runner, functools.partial(cast(Any, runner), cluster=app.cluster))
                if name in ("telegram", "discord")
                else runner
                for name, runner in adapters.items()
            }
        supervisors = [
            asyncio.create_task(supervise(name, runner, app.service, settings, stop), name=name)
            for name, runner in adapters.items()
        ]
        watchdog = asyncio.create_task(
            _end_after_grace(stop, supervisors, settings.shutdown_grace_s)
        )
        try:
            with frozen_startup_heap():
                await asyncio.wait(supervisors)
        finally:
            watchdog.cancel()
            console_stop.set()  # the console serves as long as a chat adapter runs
            if web_console is not None:
                await asyncio.gather(web_console, return_exceptions=True)
        could_run = [task.cancelled() or task.result() for task in supervisors]
        if not any(could_run):
            log.error("no adapter could start: fix the settings named above")
            return 1
        log.info("stopped")
    return 0


def _web_console(
    settings: Settings, app: App, adapters: dict[str, Runner], stop: asyncio.Event
) -> asyncio.Task[bool] | None:
    """Start the owner's web console when WEB_CONSOLE_TOKEN is set: mounted on the Telegram
    webhook's server when that one takes PORT, else on a server of its own there (supervised
    like an adapter: a port in use is retried with backoff)."""
    from bots.web_console.serve import (
        Mounter,
        announce,
        console_deps,
        console_enabled,
        run_console_server,
    )

    if not console_enabled(settings):
        return None
    console = console_deps(settings, app.console, app.workbench)
    announce(settings)
    if "telegram" in adapters and settings.telegram_webhook_url:
        from bots.telegram_adapter import run_telegram

        adapters["telegram"] = functools.partial(run_telegram, web_mount=Mounter(console))
        return None

    async def serve_console(chat: ChatPort, settings: Settings, stop: asyncio.Event) -> None:
        await run_console_server(console, settings.port, stop)

    return asyncio.create_task(
        supervise("web console", serve_console, app.service, settings, stop), name="web console"
    )


def startup_line(settings: Settings, which: str, adapters: dict[str, Runner], shared: bool) -> str:
    """One line: this process's role, its shards and who it is (issue 15)."""
    parts = []
    for name in adapters:
        if name == "telegram":
            how = "webhook" if settings.telegram_webhook_url else "long polling"
            parts.append(f"telegram ({how})")
        elif name == "discord":
            ids = settings.discord_shard_ids
            count = settings.discord_shard_count or "auto"
            shards = "all shards" if ids is None else f"shards {','.join(map(str, ids))}"
            parts.append(f"discord ({shards} of {count})")
        else:
            parts.append(name)
    database = "shared PostgreSQL" if shared else "one process (SQLite)"
    return f"starting as {which}: {', '.join(parts)}; {database}; process {process_name()}"


async def _end_after_grace(
    stop: asyncio.Event, runners: list[asyncio.Task[bool]], grace_s: float
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


async def check_models(settings: Settings) -> int:
    """`models --check`: the catalog against each provider's list; 1 when they differ."""
    models = ModelCatalog.load(
        settings.model_context_window, routes=ProviderRoutes.of(settings.providers)
    )
    providers = open_providers(settings)
    try:
        checks = await check_catalog(models, providers)
    finally:
        for provider in providers.values():
            await provider.client.close()
    print("\n".join(report(checks)))
    return 0 if all(check.in_step for check in checks) else 1


def main(argv: list[str] | None = None) -> int:
    redact_uncaught_exceptions()  # issue 11 item 8: no traceback prints a secret
    args = sys.argv[1:] if argv is None else argv
    which = args[0] if args else "all"
    checking = args == ["models", "--check"]
    if args == ["console-password"]:
        from bots.web_console.password import main as console_password

        return console_password()
    if not checking and (which not in MODES or len(args) > 1):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        configure_logging(settings)
        if checking:
            return asyncio.run(check_models(settings))
        return asyncio.run(serve(settings, which))
    except ConfigError as error:
        for problem in error.problems:
            print(f"{error.prefix}: {problem}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The process's entry point: `main`, then an exit that skips the interpreter's teardown.

    By then everything is closed (the database disposed, the adapters stopped), and the
    teardown only frees memory: with the BPE tables loaded it took 1.3-2.8 s on a busy 2-core
    machine (3.3-4.4 s from SIGTERM to exit with SHUTDOWN_GRACE_S=1, against 1.1-1.2 s with
    this exit), time a PaaS counts against its own kill timeout.
    """
    code = main()
    logging.shutdown()  # flushes the log handlers
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
