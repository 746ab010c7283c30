"""A fake Discord (REST API and a minimal gateway) on a local port, for the real discord.py.

discord.py builds every URL from `discord.http.Route.BASE` (the webhook/interaction adapter uses
the same class), so pointing that at this server runs the library's real HTTP code: its rate
limit handling, retries and error mapping. The server records each call and answers with
plausible payloads; `fail_next` scripts 429/5xx/404 answers. GET /gateway/bot points
`Client.start` at a websocket here that says HELLO, answers heartbeats, sends READY (plus
`after_ready` events) on IDENTIFY, and lets a test `dispatch` events as Discord would. Like
Discord, the gateway is sharded: each connection identifies as shard [id, count] and receives
only the events of the guilds that shard owns (`shard_of`; DMs go to shard 0), and its READY
lists only those of `guilds` (each then sent as GUILD_CREATE). Files users attach are served
from a fake CDN on the same server (`attachment` describes one).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import discord.http
from aiohttp import web

BOT_ID = 1000
APP_ID = 1000
OWNER_ID = 1
GUILD_ID = 5000  # the one server the fake knows (its threads belong to it)
DROP = 0  # a scripted "failure" that closes the connection instead of answering
DROP_AFTER = 1  # ... or that does what was asked, then closes the connection unanswered


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard Discord sends a guild's events to; events without a guild (DMs) go to 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def _event_guild(event: str, data: dict[str, Any]) -> int | None:
    guild_id = data.get("id") if event.startswith("GUILD_") else data.get("guild_id")
    return None if guild_id is None else int(guild_id)


@dataclass
class _Connection:
    """One gateway websocket: its shard once identified, its own sequence numbers."""

    socket: web.WebSocketResponse
    shard: tuple[int, int] | None = None  # (shard id, shard count)
    sequence: int = 0

    async def send(self, event: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        await self.socket.send_json({"op": 0, "t": event, "s": self.sequence, "d": data})


@dataclass(frozen=True)
class Call:
    """One request the library made."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/5/messages"
    json: Any
    at: float  # time.monotonic() when it arrived
    files: tuple[SentFile, ...] = ()  # a multipart request's file parts


@dataclass(frozen=True)
class SentFile:
    """A file the bot attached to a message."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]


@dataclass
class FakeDiscord:
    """State of the fake: recorded calls, messages by id, scripted failures."""

    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)  # threads it created
    # The message each interaction response created, by interaction id.
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    after_ready: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Guild payloads the bot is in: each shard's READY lists its own, then sends GUILD_CREATE.
    guilds: list[dict[str, Any]] = field(default_factory=list)
    # (shard id, event, data) of every event sent over the gateway, in order.
    delivered: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    gateway_closed: asyncio.Event = field(default_factory=asyncio.Event)
    _connections: list[_Connection] = field(default_factory=list)
    _new_call: asyncio.Event = field(default_factory=asyncio.Event)
    _failures: list[_Failure] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900_000))
    cdn: dict[str, bytes] = field(default_factory=dict)  # attachment bytes by CDN path
    cdn_gets: list[str] = field(default_factory=list)  # CDN paths the bot downloaded

    def next_id(self) -> int:
        return next(self._ids)

    def attachment(
        self,
        content: bytes,
        filename: str,
        content_type: str | None,
        *,
        voice_seconds: float | None = None,
    ) -> dict[str, Any]:
        """An attachment of a MESSAGE_CREATE, its bytes on the fake CDN; `voice_seconds` makes
        it a voice message (Discord sends those as OGG/Opus with a duration and a waveform)."""
        attachment_id = self.next_id()
        path = f"/cdn/attachments/{attachment_id}/{filename}"
        self.cdn[path] = content
        url = self.base_url.removesuffix("/api/v10") + path
        data: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(content),
            "url": url,
            "proxy_url": url,
        }
        if content_type is not None:
            data["content_type"] = content_type
        if voice_seconds is not None:
            data["duration_secs"] = voice_seconds
            data["waveform"] = "AAAAAAAA"
        return data

    def fail_next(
        self, method: str, path_regex: str, status: int, *, retry_after: float = 0.05
    ) -> None:
        """Answer the next matching request with `status` (429 gets a real retry_after body)."""
        body: dict[str, Any] = {"message": "scripted failure", "code": 0}
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            body["global"] = False
        elif status == 404:
            body = {"message": "Unknown Message", "code": 10008}
        self._failures.append(_Failure(method, re.compile(path_regex), status, body))

    def drop_next(self, method: str, path_regex: str) -> None:
        """Close the connection on the next matching request without answering (the client sees
        aiohttp.ServerDisconnectedError); the request is recorded but has no effect."""
        self._failures.append(_Failure(method, re.compile(path_regex), DROP, {}))

    def drop_answer_of_next(self, method: str, path_regex: str) -> None:
        """Do the next matching request, then close the connection without answering: the
        client sees the same error as `drop_next`, though the request took effect."""
        self._failures.append(_Failure(method, re.compile(path_regex), DROP_AFTER, {}))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event (op 0) as Discord does: only to the identified connection(s) of
        the shard that owns its guild (shard 0 for DMs)."""
        guild_id = _event_guild(event, data)
        for connection in list(self._connections):
            if connection.shard is not None:
                shard_id, shard_count = connection.shard
                if shard_of(guild_id, shard_count) == shard_id:
                    await self._send(connection, event, data)

    async def _send(self, connection: _Connection, event: str, data: dict[str, Any]) -> None:
        assert connection.shard is not None
        self.delivered.append((connection.shard[0], event, data))
        await connection.send(event, data)

    async def _identify(self, connection: _Connection, identify: dict[str, Any]) -> None:
        """READY with the shard's guilds (unavailable until their GUILD_CREATE), as Discord."""
        shard_id, shard_count = identify.get("shard", [0, 1])
        connection.shard = (shard_id, shard_count)
        own = [g for g in self.guilds if shard_of(int(g["id"]), shard_count) == shard_id]
        ready = _ready(self, identify)
        ready["guilds"] = [{"id": g["id"], "unavailable": True} for g in own]
        await self._send(connection, "READY", ready)
        for guild in own:
            await self._send(connection, "GUILD_CREATE", guild)
        for event, data in self.after_ready:
            if shard_of(_event_guild(event, data), shard_count) == shard_id:
                await self._send(connection, event, data)

    def record(self, call: Call) -> None:
        self.calls.append(call)
        self._new_call.set()

    async def wait_for_call(self, method: str, path_regex: str, within_s: float = 10) -> Call:
        """The first matching call, waiting for it to arrive."""
        async with asyncio.timeout(within_s):
            while not (found := self.calls_to(method, path_regex)):
                self._new_call.clear()
                await self._new_call.wait()
        return found[0]

    async def wait_until(self, predicate: Callable[[], bool], within_s: float = 10) -> None:
        """Wait until `predicate()` holds after some call."""
        async with asyncio.timeout(within_s):
            while not predicate():
                self._new_call.clear()
                await self._new_call.wait()

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        pattern = re.compile(path_regex)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    def sent_payloads(self) -> list[Any]:
        """Every request body that can carry message content (sends, edits, responses)."""
        return [
            c.json
            for c in self.calls
            if c.method in ("POST", "PATCH")
            and isinstance(c.json, dict)
            and ("content" in c.json or "data" in c.json)
        ]

    def channel_texts(self, channel_id: int) -> list[str]:
        """Current text of the bot's messages in a channel, oldest first (edits applied)."""
        return [
            m["content"]
            for m in sorted(self.messages.values(), key=lambda m: int(m["id"]))
            if m["channel_id"] == str(channel_id)
        ]


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def _message(fake: FakeDiscord, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(fake.next_id()),
        "channel_id": channel_id,
        "author": user_payload(BOT_ID, "gptbot", bot=True),
        "content": body.get("content") or "",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "components": body.get("components") or [],
    }


def _route(fake: FakeDiscord, method: str, path: str, raw_body: Any) -> tuple[int, Any]:
    body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
    if method == "GET" and path == "/users/@me":
        return 200, user_payload(BOT_ID, "gptbot", bot=True)
    if method == "GET" and path == "/gateway/bot":
        return 200, {
            "url": fake.base_url.replace("http://", "ws://").removesuffix("/api/v10") + "/gateway",
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 0,
                "max_concurrency": 1,
            },
        }
    if method == "GET" and path == "/oauth2/applications/@me":
        return 200, {
            "id": str(APP_ID),
            "name": "gptbot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_payload(OWNER_ID, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
        }
    if m := re.fullmatch(r"/channels/(\d+)/typing", path):
        return 204, None
    if m := re.fullmatch(r"/channels/(\d+)/messages", path):
        message = _message(fake, m[1], body)
        fake.messages[int(message["id"])] = message
        return 200, message
    if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
        message = fake.messages.get(int(m[2]))
        if message is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        if method == "DELETE":
            del fake.messages[int(m[2])]
            return 204, None
        if "content" in body:
            message["content"] = body["content"] or ""
        return 200, message
    if method == "GET" and (m := re.fullmatch(r"/channels/(\d+)", path)):
        channel = fake.channels.get(int(m[1]))
        return (200, channel) if channel else (404, {"message": "Unknown Channel", "code": 10003})
    if m := re.fullmatch(r"/channels/(\d+)(?:/messages/\d+)?/threads", path):
        thread_id = fake.next_id()
        fake.channels[thread_id] = {
            "id": str(thread_id),
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": m[1],
            "owner_id": str(BOT_ID),
            "name": body.get("name", "thread"),
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": "2026-01-01T00:00:00+00:00",
                "locked": False,
            },
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
        }
        return 201, fake.channels[thread_id]
    if m := re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path):
        scope = m[1] or "global"
        if method == "PUT":
            stored = [dict(c, id=str(fake.next_id()), application_id=str(APP_ID)) for c in raw_body]
            fake.commands[scope] = stored
        return 200, fake.commands.get(scope, [])
    if m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
        if m[1] in fake.responses:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        message = _message(fake, "0", body.get("data") or {})
        flags = (body.get("data") or {}).get("flags", 0)
        if body.get("type") == 4:
            fake.messages[int(message["id"])] = message
        fake.responses[m[1]] = message
        return 200, {
            "interaction": {
                "id": m[1],
                "type": 2,
                "response_message_id": message["id"],
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": body.get("type"), "message": message},
        }
    if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", path):
        message = _message(fake, "0", body)
        return 200, message
    return 404, {"message": f"fake Discord has no route {method} {path}", "code": 0}


def _ready(fake: FakeDiscord, identify: dict[str, Any]) -> dict[str, Any]:
    return {
        "v": 10,
        "user": user_payload(BOT_ID, "gptbot", bot=True),
        "guilds": [],
        "session_id": "fake-session",
        "resume_gateway_url": fake.base_url.replace("http://", "ws://"),
        "shard": identify.get("shard", [0, 1]),
        "application": {"id": str(APP_ID), "flags": 0},
    }


def _json(payload: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim (no charset suffix).
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@asynccontextmanager
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """Serve the fake on 127.0.0.1 and point discord.py's Route.BASE at it while open."""
    fake = FakeDiscord()

    async def handle(request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        files: list[SentFile] = []
        body: Any = None
        if request.content_type.startswith("multipart/"):
            # A message with files: its JSON in `payload_json`, each file in `files[n]`.
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    data = value.file.read()
                    files.append(SentFile(value.filename, value.content_type, data))
        else:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
        fake.record(Call(request.method, path, body, time.monotonic(), tuple(files)))
        for failure in fake._failures:
            if failure.method == request.method and failure.pattern.fullmatch(path):
                fake._failures.remove(failure)
                if failure.status in (DROP, DROP_AFTER):
                    if failure.status == DROP_AFTER:
                        _route(fake, request.method, path, body)
                    assert request.transport is not None
                    request.transport.close()
                    return web.Response(status=500)  # never reaches the client
                # discord.py treats a 429 without Via as a Cloudflare ban, as Discord's does
                return _json(failure.body, failure.status, headers={"Via": "1.1 fake"})
        status, payload = _route(fake, request.method, path, body)
        if payload is None:
            return web.Response(status=status)
        return _json(payload, status)

    async def gateway(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connection = _Connection(socket)
        fake._connections.append(connection)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45_000}, "s": None})
        async for frame in socket:
            message = json.loads(frame.data)
            if message["op"] == 1:  # heartbeat
                await socket.send_json({"op": 11, "d": None, "s": None})
            elif message["op"] == 2:  # identify
                fake.record(Call("IDENTIFY", "/gateway", message["d"], time.monotonic()))
                await fake._identify(connection, message["d"])
                fake.identified.set()
        fake._connections.remove(connection)
        fake.gateway_closed.set()
        return socket

    async def cdn(request: web.Request) -> web.Response:
        fake.cdn_gets.append(request.path)
        content = fake.cdn.get(request.path)
        if content is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=content, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/gateway", gateway)
    app.router.add_get("/cdn/{tail:.*}", cdn)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}/api/v10"
    old_base = discord.http.Route.BASE
    discord.http.Route.BASE = fake.base_url
    try:
        yield fake
    finally:
        discord.http.Route.BASE = old_base
        for connection in list(fake._connections):
            await connection.socket.close()
        await runner.cleanup()
        await asyncio.sleep(0)
