"""A fake Telegram Bot API server for end-to-end tests of the Telegram adapter.

The real python-telegram-bot `Bot` talks to it over HTTP (point `base_url` at `fake.base_url`).
It keeps the state Telegram keeps (messages per chat, their edits, the update queue with offsets),
validates what Telegram validates (text length in UTF-16 units, entity bounds, "message is not
modified", unknown message ids), records every call with its decoded parameters, and can be told
to fail the next calls the way Telegram fails (400, 429 with retry_after, 5xx). Files users send
(photos, documents, voice notes, albums) are served as Telegram serves them: `getFile` gives a
path, and the bytes come from `/file/bot<token>/<path>` (20 MB at most, as on Telegram).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "testbot"
MAX_TEXT_UTF16 = 4096
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")

# Parameters the Bot API defines as something other than String; PTB JSON-encodes these in its
# form posts while sending strings as they are, so only these may be JSON-decoded.
_JSON_PARAMS = frozenset(
    {
        "chat_id",
        "user_id",
        "message_id",
        "message_thread_id",
        "draft_id",
        "offset",
        "limit",
        "timeout",
        "entities",
        "caption_entities",
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "allowed_updates",
        "disable_notification",
        "protect_content",
        "show_alert",
        "cache_time",
        "drop_pending_updates",
        "max_connections",
    }
)


MAX_CAPTION_UTF16 = 1024


def _checked_caption(params: dict[str, Any]) -> dict[str, Any]:
    if utf16_len(params.get("caption") or "") > MAX_CAPTION_UTF16:
        raise _ApiError(400, "Bad Request: message caption is too long")
    return params


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One recorded Bot API request."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    status: int = 200
    files: dict[str, Upload] = field(default_factory=dict)  # multipart file parts, by field


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as it arrived."""

    filename: str | None
    content_type: str
    content: bytes


DROP = 0  # a scripted failure that closes the connection without answering


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    when: Callable[[dict[str, Any]], bool] | None


@dataclass
class SentMessage:
    """A bot message as the chat shows it now (after any edits)."""

    chat_id: int
    message_id: int
    text: str
    entities: list[dict[str, Any]]
    thread_id: int | None
    reply_markup: dict[str, Any] | None
    edits: int = 0


@dataclass(frozen=True)
class StoredFile:
    """A file a user sent, as Telegram keeps it."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes

    def description(self, **fields: Any) -> dict[str, Any]:
        """The File-like part of a PhotoSize, Document, Voice... in a Message."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            **fields,
        }


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    next_message_id: int = 1
    admins: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = f"User{self.id}"
        else:
            data["title"] = self.title or f"Group {self.id}"
        if self.is_forum:
            data["is_forum"] = True
        return data


class FakeTelegram:
    """`async with FakeTelegram() as tg:` starts the server on a free local port."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.refused: list[str] = []  # paths answered 401 (another token) or 404 (no Bot API)
        self.delivered: list[int] = []  # update ids getUpdates returned, in order (with repeats)
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []  # file paths the bot downloaded, in order
        self._file_ids = itertools.count(1)
        self._chats: dict[int, _Chat] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._hangs: list[tuple[str, float]] = []
        self._changed = asyncio.Condition()
        self._notifiers: set[asyncio.Task[None]] = set()
        self._chat_waiters: dict[int, set[asyncio.Event]] = {}
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/{path:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Telegram accepts hundreds of the bot's connections opening at once; the default
        # backlog (128) drops them and the bot's calls wait 1-7 s for retried SYNs.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True  # long polls still waiting answer now instead of at their timeout
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root_url(self) -> str:
        """The server's root, as TELEGRAM_BASE_URL takes it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What PTB's `base_url` should be (PTB appends the token)."""
        return f"{self.root_url}/bot"

    # ----- scripting the outside world --------------------------------------------------------

    def chat(
        self,
        chat_id: int,
        type: str = "",
        *,
        is_forum: bool = False,
        admins: set[int] = frozenset(),
    ) -> None:
        """Declare a chat (type defaults to private for positive ids, supergroup otherwise)."""
        kind = type or ("private" if chat_id > 0 else "supergroup")
        self._chats[chat_id] = _Chat(chat_id, kind, is_forum=is_forum, admins=set(admins))

    def _chat(self, chat_id: int) -> _Chat:
        if chat_id not in self._chats:
            self.chat(chat_id)
        return self._chats[chat_id]

    def fail_next(
        self,
        method: str,
        status: int = 400,
        description: str = "Bad Request: can't parse entities: unexpected end of name token",
        *,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (matching `when`) with an error."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if status == 429 and description.startswith("Bad Request"):
            description = f"Too Many Requests: retry after {retry_after}"
        self._failures.append(_Failure(method, status, description, retry_after, times, when))

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Close the connection on the next `times` calls of `method` without answering (the
        client sees a disconnect); the call is recorded but does nothing."""
        self._failures.append(_Failure(method, DROP, "", None, times, None))

    def hang_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` only after `seconds`."""
        self._hangs.extend([(method, seconds)] * times)

    def push_update(self, payload: dict[str, Any]) -> int:
        """Queue a raw update (without update_id) for getUpdates; returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def push_raw(self, update: dict[str, Any]) -> None:
        """Queue an update exactly as given (e.g. a redelivery with its old update_id)."""
        self._updates.append(update)
        self._notify()

    def user(
        self, user_id: int, name: str = "", *, is_bot: bool = False, language: str = "en"
    ) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": is_bot,
            "first_name": name or f"User{user_id}",
            "language_code": language,
        }

    def store_file(self, content: bytes, name: str = "file") -> StoredFile:
        """Keep a file as Telegram keeps what users send; `getFile` and downloads find it."""
        number = next(self._file_ids)
        stored = StoredFile(
            file_id=f"FILE{number}-{'x' * 20}",
            file_unique_id=f"U{number}",
            file_path=f"documents/file_{number}_{name}",
            content=content,
        )
        self.files[stored.file_id] = stored
        return stored

    def media(
        self,
        *,
        photo: bytes | None = None,
        document: tuple[str, str, bytes] | None = None,
        voice: bytes | None = None,
        audio: tuple[str, str, bytes] | None = None,
        video_note: bytes | None = None,
        duration: int = 3,
    ) -> dict[str, Any]:
        """The Message fields of one piece of media a user sends (merge into `incoming`)."""
        fields: dict[str, Any] = {}
        if photo is not None:
            # Telegram offers several sizes, smallest first; the fake's are the same bytes.
            small = self.store_file(photo[: max(len(photo) // 4, 1)], "small.jpg")
            large = self.store_file(photo, "photo.jpg")
            fields["photo"] = [
                small.description(width=90, height=90),
                large.description(width=800, height=600),
            ]
        if document is not None:
            name, mime_type, content = document
            stored = self.store_file(content, name)
            fields["document"] = stored.description(file_name=name, mime_type=mime_type)
        if voice is not None:
            stored = self.store_file(voice, "voice.oga")
            fields["voice"] = stored.description(duration=duration, mime_type="audio/ogg")
        if audio is not None:
            name, mime_type, content = audio
            stored = self.store_file(content, name)
            fields["audio"] = stored.description(
                duration=duration, file_name=name, mime_type=mime_type
            )
        if video_note is not None:
            stored = self.store_file(video_note, "video_note.mp4")
            fields["video_note"] = stored.description(length=240, duration=duration)
        return fields

    def incoming(
        self,
        chat_id: int,
        text: str | None,
        *,
        user: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        extra: dict[str, Any] | None = None,
        media: dict[str, Any] | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """Build a Message dict as a user sends it into `chat_id` (allocating a message id).
        With `media` (from `media(...)`) the text is its caption, as Telegram sends it."""
        chat = self._chat(chat_id)
        message_id = chat.next_message_id
        chat.next_message_id += 1
        sender = user or self.user(chat_id if chat_id > 0 else 500)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat.as_dict(),
            "from": sender,
        }
        if media:
            message.update(media)
            if text is not None:
                message["caption"] = text
            if entities:
                message["caption_entities"] = entities
        else:
            if text is not None:
                message["text"] = text
            if entities:
                message["entities"] = entities
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
        if reply_to is not None:
            replied = self.messages.get((chat_id, reply_to))
            if replied is not None:
                message["reply_to_message"] = self._message_dict(replied)
            else:
                message["reply_to_message"] = {
                    "message_id": reply_to,
                    "date": int(time.time()),
                    "chat": chat.as_dict(),
                    "from": self.user(501),
                    "text": "earlier",
                }
        elif thread_id is not None and chat.is_forum:
            # Telegram marks every topic message as a reply to the topic's creation message.
            message["reply_to_message"] = {
                "message_id": thread_id,
                "date": int(time.time()),
                "chat": chat.as_dict(),
                "forum_topic_created": {"name": f"Topic {thread_id}", "icon_color": 7322096},
                "message_thread_id": thread_id,
                "is_topic_message": True,
            }
        if extra:
            message.update(extra)
        return message

    def send_text(self, chat_id: int, text: str | None, **kwargs: Any) -> dict[str, Any]:
        """A user writes into a chat: queue the update; returns the Message dict."""
        message = self.incoming(chat_id, text, **kwargs)
        self.push_update({"message": message})
        return message

    def send_album(
        self, chat_id: int, items: list[dict[str, Any]], caption: str | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """A media group: one update per item, the caption on the first, as Telegram sends it."""
        group = f"album{next(self._update_ids)}"
        sent = []
        for index, media in enumerate(items):
            text = caption if index == 0 else None
            entities = kwargs.pop("entities", None) if index == 0 else None
            sent.append(
                self.send_text(
                    chat_id, text, media=media, media_group_id=group, entities=entities, **kwargs
                )
            )
        return sent

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user: dict[str, Any] | None = None
    ) -> str:
        """A user presses an inline button under one of the bot's messages."""
        press = self.button_press(chat_id, message_id, data, user=user)
        self.push_update(press)
        return str(press["callback_query"]["id"])

    def button_press(
        self, chat_id: int, message_id: int, data: str, *, user: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The update (without update_id) of a press of an inline button under one of the
        bot's messages, to deliver by webhook or `push_update`."""
        sent = self.messages[(chat_id, message_id)]
        return {
            "callback_query": {
                "id": f"q{next(self._update_ids)}",
                "from": user or self.user(chat_id if chat_id > 0 else 500),
                "chat_instance": str(chat_id),
                "data": data,
                "message": self._message_dict(sent),
            }
        }

    # ----- inspecting what the bot did -------------------------------------------------------

    def unconfirmed(self) -> list[int]:
        """Ids of the updates Telegram still holds: no getUpdates offset has confirmed them."""
        return [u["update_id"] for u in self._updates]

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[SentMessage]:
        """The bot's messages in a chat (or one topic), in order, as they read now."""
        found = [
            m
            for (cid, _), m in sorted(self.messages.items())
            if cid == chat_id and (thread_id is None or m.thread_id == thread_id)
        ]
        return found

    def transcript(self, chat_id: int, thread_id: int | None = None) -> str:
        """Everything the bot's messages in a chat say now, joined in order."""
        return "".join(m.text for m in self.bot_messages(chat_id, thread_id))

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until `predicate()` holds after some call; TimeoutError after `within` s."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_for_chat(
        self, chat_id: int, predicate: Callable[[], bool], within: float = 10.0
    ) -> None:
        """Like `wait_until`, checked only after calls into `chat_id`: many waiters cost no more
        per call than one."""
        changed = asyncio.Event()
        waiters = self._chat_waiters.setdefault(chat_id, set())
        waiters.add(changed)
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    await changed.wait()
                    changed.clear()
        finally:
            waiters.discard(changed)
            if not waiters:
                del self._chat_waiters[chat_id]

    async def wait_quiet(self, seconds: float, within: float = 10.0) -> None:
        """Wait until `seconds` pass without any call other than long polls."""
        async with asyncio.timeout(within):
            while True:
                active = [c.at for c in self.calls if c.method != "getUpdates"]
                idle = time.monotonic() - (active[-1] if active else 0.0)
                if idle >= seconds:
                    return
                await asyncio.sleep(seconds - idle)

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.get_running_loop().create_task(notify())
        self._notifiers.add(task)
        task.add_done_callback(self._notifiers.discard)

    # ----- the HTTP side ---------------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.Response:
        """A file's bytes by the path getFile gave (the token is in the path, as on Telegram)."""
        if request.match_info["token"] != self.token:
            self.refused.append(request.path)
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        self.downloads.append(path)
        self._notify()
        found = next((f for f in self.files.values() if f.file_path == path), None)
        if found is None:
            return _error(404, "Not Found")
        return web.Response(body=found.content, content_type="application/octet-stream")

    async def _not_found(self, request: web.Request) -> web.Response:
        """What a web server answers below a path that is not the Bot API (not JSON)."""
        self.refused.append(request.path)
        self._notify()
        return web.Response(status=404, text="404: Not Found")

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.refused.append(request.path)
            self._notify()
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            params, files = await _params(request)
        except ConnectionResetError:  # the bot cancelled the call while sending it (typing)
            return web.Response(status=499)
        call = Call(method, params, time.monotonic(), files=files)
        self.calls.append(call)
        self._notify()  # a long poll answers late; waiters may only need to know it was made
        try:
            hang = next((h for h in self._hangs if h[0] == method), None)
            if hang is not None:
                self._hangs.remove(hang)
                await asyncio.sleep(hang[1])
            failure = self._take_failure(method, params)
            if failure is not None and failure.status == DROP:
                call.status = DROP
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)  # never reaches the client
            if failure is not None:
                call.status = failure.status
                extra = {"retry_after": failure.retry_after} if failure.retry_after else None
                return _error(failure.status, failure.description, extra)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                call.status = 404
                return _error(404, "Not Found: method not found")
            try:
                result = await handler(params)
            except _ApiError as exc:
                call.status = exc.status
                return _error(exc.status, exc.description)
            return web.json_response({"ok": True, "result": result})
        finally:
            self._notify()
            for changed in self._chat_waiters.get(_chat_of(params), ()):
                changed.set()

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and (failure.when is None or failure.when(params)):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    # ----- Bot API methods -------------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Test Bot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        # A positive offset confirms every earlier update, as on Telegram.
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = params.get("allowed_updates")
        if allowed:  # Telegram never delivers the other kinds to this bot
            self._updates = [u for u in self._updates if set(u) - {"update_id"} <= set(allowed)]
        if not self._updates and timeout > 0:
            async with self._changed:
                try:
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
                except TimeoutError:
                    pass
        batch = self._updates[:limit]
        self.delivered += [u["update_id"] for u in batch]
        return batch

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise _ApiError(400, "Bad Request: file is too big")
        return stored.description(file_path=stored.file_path)

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        for command in params.get("commands", []):
            name = command["command"]
            if not (1 <= len(name) <= 32) or not all(
                c.islower() or c.isdigit() or c == "_" for c in name
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(command["description"]) <= 256):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(int(params["chat_id"]))
        user_id = int(params["user_id"])
        status = "administrator" if user_id in chat.admins else "member"
        return _member(user_id, status)

    async def _api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(int(params["chat_id"]))
        return [_member(user_id, "administrator") for user_id in sorted(chat.admins)]

    async def _api_sendMessageDraft(self, params: dict[str, Any]) -> bool:
        chat = self._chat(int(params["chat_id"]))
        if chat.type != "private":
            raise _ApiError(400, "Bad Request: TEXTDRAFT_PEER_INVALID")
        if not params.get("draft_id"):
            raise _ApiError(400, "Bad Request: draft_id must be non-zero")
        _check_text(params.get("text") or "", params.get("entities"), allow_empty=True)
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(int(params["chat_id"]))
        text = params.get("text") or ""
        _check_text(text, params.get("entities"))
        message = SentMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            text=text,
            entities=list(params.get("entities") or []),
            thread_id=params.get("message_thread_id"),
            reply_markup=params.get("reply_markup"),
        )
        chat.next_message_id += 1
        self.messages[(chat.id, message.message_id)] = message
        return self._message_dict(message)

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        text = params.get("text") or ""
        _check_text(text, params.get("entities"))
        entities = list(params.get("entities") or [])
        markup = params.get("reply_markup")
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.edits += 1
        return self._message_dict(message)

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        """A document sent as a multipart upload; the message shows its caption as text."""
        chat = self._chat(int(params["chat_id"]))
        message = SentMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            text=params.get("caption") or "",
            entities=[],
            thread_id=params.get("message_thread_id"),
            reply_markup=params.get("reply_markup"),
        )
        chat.next_message_id += 1
        self.messages[(chat.id, message.message_id)] = message
        return self._message_dict(message)

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo uploaded as multipart (recorded in the call's `files["photo"]`)."""
        return await self._api_sendDocument(_checked_caption(params))

    async def _api_sendVoice(self, params: dict[str, Any]) -> dict[str, Any]:
        """A voice message (OGG/Opus) uploaded as multipart (`files["voice"]`)."""
        return await self._api_sendDocument(_checked_caption(params))

    async def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self.messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _message_dict(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self._chat(message.chat_id).as_dict(),
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Test Bot",
                "username": BOT_USERNAME,
            },
            "text": message.text,
        }
        if message.entities:
            data["entities"] = message.entities
        if message.thread_id is not None:
            data["message_thread_id"] = message.thread_id
            if self._chat(message.chat_id).is_forum:
                data["is_topic_message"] = True
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _check_text(
    text: str, entities: list[dict[str, Any]] | None, *, allow_empty: bool = False
) -> None:
    if not text.strip() and not allow_empty:
        raise _ApiError(400, "Bad Request: message text is empty")
    length = utf16_len(text)
    if length > MAX_TEXT_UTF16:
        raise _ApiError(400, "Bad Request: message is too long")
    for entity in entities or []:
        if (
            entity["offset"] < 0
            or entity["length"] <= 0
            or entity["offset"] + entity["length"] > length
        ):
            raise _ApiError(400, "Bad Request: can't parse entities: entity is out of the text")


def _chat_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


def _member(user_id: int, status: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if status == "administrator":
        return {
            "status": status,
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
    return {"status": status, "user": user}


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    if request.content_type == "application/json":
        return dict(await request.json()), {}
    raw = dict(await request.post()) if request.can_read_body else {}
    raw.update(request.query)
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    for name, value in raw.items():
        if isinstance(value, web.FileField):
            files[name] = Upload(value.filename, value.content_type, value.file.read())
            continue
        if not isinstance(value, str):
            continue
        if name in _JSON_PARAMS:
            try:
                params[name] = json.loads(value)
            except ValueError:
                params[name] = value
        else:
            params[name] = value
    return params, files
