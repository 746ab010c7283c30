"""Webhook mode on our own small aiohttp server (PTB's documented custom-webhook set-up): the
secret header is checked, in constant time, and the size capped before a byte of the body is
read, so a stranger's huge POST costs nothing. GET / and GET /health answer a PaaS health
check; other routes (a web console) are added to `app` before `start`.

With a shared inbox (several processes on PostgreSQL) an update is acknowledged once it is
stored, and handled by whichever process holds its conversation (core/cluster/inbox.py);
without one (SQLite, one process) once its turn has started (intake.py)."""

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
from bots.telegram_adapter.shared_intake import album_of, conversation_of, update_id_of
from core.boundary import UpdateInbox

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
        inbox: UpdateInbox | None = None,
        health: dict[str, object] | None = None,  # what GET /health tells besides "ok"
    ) -> None:
        self._application = application
        self._ledger = ledger
        self._inbox = inbox
        self._health_fields = health or {}
        self._runner: web.AppRunner | None = None
        self._secret = secret.encode()
        self._port = port
        self._listen = listen
        self.app = web.Application()
        self.app.router.add_post(f"/{path}", self._receive)
        self.app.router.add_get("/", self._health)
        self.app.router.add_get("/health", self._health_json)
        if mount is not None:
            mount(self.app)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _health_json(self, request: web.Request) -> web.Response:
        busy = {} if self._inbox is None else {"conversations_in_progress": len(self._inbox)}
        return web.json_response({"ok": True, **self._health_fields, **busy})

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
        if self._inbox is not None:
            return await self._store(body, self._inbox)
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

    async def _store(self, body: bytearray, inbox: UpdateInbox) -> web.Response:
        """200 only once the update is committed: then no process may lose it."""
        try:
            payload = body.decode()
            data = json.loads(payload)
        except ValueError:  # UnicodeDecodeError included
            return _refuse(400, "not an update")
        update_id = update_id_of(data)
        if update_id is None:
            return _refuse(400, "not an update")
        if not await inbox.receive(update_id, conversation_of(data), album_of(data), payload):
            return web.Response(status=503, text="try again")  # Telegram sends it again
        return web.Response(text="ok")


def _refuse(status: int, reason: str) -> web.Response:
    response = web.Response(status=status, text=reason)
    response.force_close()  # the rest of the body is never read: the connection must go
    return response
