"""Start-up and shutdown: PTB's Application on the shared event loop, with PTB's manual
lifecycle, fed by our own long polling (polling.py) or webhook server (webhook.py), so that a
stop first stops taking updates, then lets replies in flight finish (bounded), and confirms to
Telegram only the updates that were answered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bots.inflight import RepliesInFlight
from bots.telegram_adapter.aiohttp_request import AiohttpRequest
from bots.telegram_adapter.commands import register_commands
from bots.telegram_adapter.delivery import StreamPolicy
from bots.telegram_adapter.handlers import TelegramHandlers
from bots.telegram_adapter.incoming import PLATFORM
from bots.telegram_adapter.intake import LedgerUpdates, UpdateLedger, UpdateSlots
from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.polling import UpdatePoller
from bots.telegram_adapter.push import TelegramPush
from bots.telegram_adapter.send_pacing import SendPacing
from bots.telegram_adapter.shared_intake import StoredUpdates
from bots.telegram_adapter.webhook import WebhookServer
from config.settings import ConfigError
from core.boundary import ProcessCluster, UpdateInbox, process_name

if TYPE_CHECKING:
    from aiohttp import web

    from config.settings import Settings
    from core.boundary import ChatPort

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLLER_ROLE = "telegram-poller"


async def run_telegram(
    chat: ChatPort,
    settings: Settings,
    stop: asyncio.Event,
    cluster: ProcessCluster | None = None,
    *,
    web_mount: Callable[[web.Application], None] | None = None,
) -> None:
    """Run the bot until `stop` is set; then let replies in flight finish (bounded) and return.

    With `cluster` (PostgreSQL, any number of processes): webhook deliveries go through the
    shared inbox, and only one process polls (the others stand by). `web_mount` adds routes
    (the web console) to the webhook's server, when there is one."""
    await serve(chat, TelegramOptions.from_settings(settings), stop, cluster, web_mount)


def build_application(
    options: TelegramOptions, slots: UpdateSlots, ledger: UpdateLedger, replies: RepliesInFlight
) -> AnyApplication:
    builder = (
        ApplicationBuilder()
        .token(options.token)
        # Paces per chat and caps new messages bot-wide; RetryAfter is waited out per call
        # (bot_api.py).
        .rate_limiter(SendPacing(options.max_messages_per_s))
        # Chats run in parallel, bounded by `slots`; the ledger learns when each update gets one.
        .concurrent_updates(LedgerUpdates(slots, ledger, replies))
        .updater(None)  # polling.py and webhook.py feed the update queue instead
        # aiohttp instead of PTB's httpx: half the CPU, and no pool race (aiohttp_request.py).
        # Pool sizes as PTB's defaults: 256 for calls, 1 for the one long poll at a time.
        .request(AiohttpRequest(connection_pool_size=256))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    if options.base_url:
        # Files come from the same server: ".../bot" serves calls, ".../file/bot" downloads.
        root = options.base_url.removesuffix("/bot")
        builder = builder.base_url(options.base_url).base_file_url(f"{root}/file/bot")
    return builder.build()


def add_handlers(application: AnyApplication, handlers: TelegramHandlers) -> None:
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, handlers.on_message))
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    application.add_error_handler(handlers.on_error)


async def serve(
    chat: ChatPort,
    options: TelegramOptions,
    stop: asyncio.Event,
    cluster: ProcessCluster | None = None,
    web_mount: Callable[[web.Application], None] | None = None,
) -> None:
    """Long polling (or webhook when configured) until `stop`, with PTB's manual lifecycle."""
    if cluster is not None and not options.webhook_url:
        # Telegram serves one getUpdates at a time: a second poller would steal updates and
        # make both fail with 409 Conflict.
        if not await cluster.take_role(POLLER_ROLE, stop):
            return
        try:
            await _serve(chat, options, stop, cluster, web_mount)
        finally:
            with contextlib.suppress(Exception):
                await cluster.release_role(POLLER_ROLE)
        return
    await _serve(chat, options, stop, cluster, web_mount)


async def _serve(
    chat: ChatPort,
    options: TelegramOptions,
    stop: asyncio.Event,
    cluster: ProcessCluster | None,
    web_mount: Callable[[web.Application], None] | None,
) -> None:
    # PTB >= 22.2 warns on every RetryAfter unless durations are opted in to timedelta, which
    # send_pacing.retry_after_seconds already handles.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    policy = StreamPolicy(
        edit_interval_s=options.edit_interval_s,
        typing_interval_s=options.typing_interval_s,
        use_drafts=options.use_drafts,
    )
    replies = RepliesInFlight()
    ledger = UpdateLedger()
    slots = UpdateSlots(options.max_concurrent_updates)
    application = build_application(options, slots, ledger, replies)
    try:
        await application.initialize()  # getMe: the token is checked here
    except InvalidToken as exc:
        await application.bot.shutdown()  # its HTTP clients were opened before getMe
        raise refused_token(exc, options) from None  # PTB's message quotes the token
    async with application:  # ... shutdown()
        # Handlers are added once getMe has answered: they need to know who the bot is.
        add_handlers(application, TelegramHandlers(chat, policy, replies, slots, application.bot))
        await register_commands(application.bot)
        await application.start()
        withdraw_push = chat.offer_push(PLATFORM, TelegramPush(application.bot))
        poller: UpdatePoller | None = None
        webhook: WebhookServer | None = None
        polling: asyncio.Task[None] | None = None
        inbox: UpdateInbox | None = None
        try:
            if options.webhook_url:
                if cluster is not None:
                    stored = StoredUpdates(application, slots)
                    inbox = cluster.inbox(PLATFORM, stored.handle, options.max_concurrent_updates)
                    inbox.start()  # with a sweep at once: what a stopped process left
                webhook = WebhookServer(
                    application,
                    ledger,
                    path=options.webhook_path,
                    secret=options.effective_webhook_secret,
                    port=options.port,
                    mount=web_mount,
                    inbox=inbox,
                    health={"role": "telegram webhook", "process": process_name()},
                )
                await webhook.start()  # listening before Telegram is told to send here
                await application.bot.set_webhook(
                    url=options.webhook_url,
                    secret_token=options.effective_webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info(
                    "telegram: webhook on port %s, process %s, %s",
                    options.port,
                    process_name(),
                    "shared inbox on PostgreSQL" if inbox is not None else "one process",
                )
            else:
                poller = UpdatePoller(
                    application,
                    ledger,
                    timeout_s=options.poll_timeout_s,
                    allowed_updates=ALLOWED_UPDATES,
                )
                polling = asyncio.create_task(poller.run())
                log.info(
                    "telegram: polling as @%s, process %s", application.bot.username, process_name()
                )
            await _until_stopped(stop, polling)
        except InvalidToken as exc:  # the token was revoked while running
            raise refused_token(exc, options) from None
        finally:
            withdraw_push()
            # Stop taking updates first; what was taken but has not started stays unconfirmed.
            ledger.stop()
            if polling is not None:
                polling.cancel()
                await asyncio.gather(polling, return_exceptions=True)
            if webhook is not None:
                await webhook.stop()
            if inbox is not None:
                await inbox.stop(options.shutdown_grace_s)
            await _stop_within(application, replies, options.shutdown_grace_s)
            if poller is not None:
                await poller.confirm_answered()


async def _until_stopped(stop: asyncio.Event, polling: asyncio.Task[None] | None) -> None:
    """Until `stop` is set, or polling ends (it only ends by raising, e.g. InvalidToken)."""
    stopping = asyncio.ensure_future(stop.wait())
    watched: set[asyncio.Future[Any]] = {stopping}
    if polling is not None:
        watched.add(polling)
    try:
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if polling is not None and polling.done():
        polling.result()


def refused_token(exc: InvalidToken, options: TelegramOptions) -> ConfigError:
    """One line naming the setting to fix, never the token.

    PTB raises InvalidToken for 401 (a token Telegram does not know) and for 404, which
    api.telegram.org answers for a malformed token and any other server for a wrong path.
    """
    answer = str(exc.__cause__ or exc).lower()
    if "unauthorized" in answer or not options.base_url:
        return ConfigError(
            "TELEGRAM_BOT_TOKEN: Telegram rejected this token; copy it again from @BotFather"
        )
    return ConfigError(
        "TELEGRAM_BASE_URL: the Bot API server there answered 'not found' for this bot; set "
        "TELEGRAM_BASE_URL to the server's root (e.g. http://127.0.0.1:8081) and check "
        "TELEGRAM_BOT_TOKEN"
    )


async def _stop_within(
    application: AnyApplication, replies: RepliesInFlight, grace_s: float
) -> None:
    """application.stop() finishes queued updates and replies in flight; past `grace_s` the
    remaining turns are cancelled (the core leaves storage consistent on cancellation).

    Not `replies.drain()`: it stops accepting at once, so updates PTB had already taken in but
    whose turn had not begun (queued, or waiting for a chat-admin lookup) would go unanswered.
    """
    if not application.running:
        return
    stopping = asyncio.create_task(application.stop())
    done, _ = await asyncio.wait({stopping}, timeout=grace_s)
    while not done:
        cancelled = replies.cancel()
        log.warning("telegram: cancelled %d replies still running at shutdown", cancelled)
        done, _ = await asyncio.wait({stopping}, timeout=0.5)
    await stopping
