"""Webhook mode on our own small aiohttp server (PTB's documented custom-webhook set-up): the
secret header is checked, in constant time, and the size capped before a byte of the body is
read, so a stranger's huge POST costs nothing. GET / answers a PaaS health check."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bots.telegram_adapter.intake import UpdateLedger

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1 << 20  # an update is a few kB; Telegram never sends near this


class WebhookServer:
    """Receives Telegram's POSTs on `path` and feeds the application's update queue."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        ledger: UpdateLedger,
        *,
        path: str,
        secret: str,
        port: int,
        listen: str = "0.0.0.0",  # a PaaS routes its public port here
        mount: Callable[[web.Application], None] | None = None,  # more routes (the web console)
    ) -> None:
        self._application = application
        self._ledger = ledger
        self._secret = secret.encode()
        self._port = port
        self._listen = listen
        app = web.Application()
        app.router.add_post(f"/{path}", self._receive)
        app.router.add_get("/", self._health)
        if mount is not None:
            mount(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return _refuse(403, "wrong secret token")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _refuse(413, "too large")
        body = bytearray()
        async for chunk in request.content.iter_any():  # no Content-Length: count as it comes
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _refuse(413, "too large")
        try:
            update = Update.de_json(json.loads(body), self._application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return _refuse(400, "not an update")
        self._ledger.fetched(update.update_id)
        self._application.update_queue.put_nowait(update)
        # Answering 200 confirms the update to Telegram: only once its turn has started, so
        # that one still waiting at a stop is delivered again to the next run.
        if not await self._ledger.until_started([update.update_id]):
            return web.Response(status=503, text="stopping")
        return web.Response(text="ok")


def _refuse(status: int, reason: str) -> web.Response:
    response = web.Response(status=status, text=reason)
    response.force_close()  # the rest of the body is never read: the connection must go
    return response
