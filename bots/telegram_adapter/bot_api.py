"""Single Bot API calls that must get through: retries, RetryAfter, and the plain-text fallback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bots.telegram_adapter.formatting import Rendered, plain
from bots.telegram_adapter.send_pacing import Pace, retry_after_seconds

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5
BACKOFF_S = 0.25  # first pause after a network error or 5xx; doubles each time
MAX_WAIT_S = 60.0  # a longer RetryAfter is not worth holding a reply for


def is_entity_error(exc: BadRequest) -> bool:
    return "entit" in exc.message.lower()


def is_not_modified(exc: BadRequest) -> bool:
    return "message is not modified" in exc.message.lower()


def is_edit_target_gone(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "message to edit not found" in text or "message can't be edited" in text


async def until_accepted(
    call: Callable[[Rendered], Awaitable[T]], rendered: Rendered, raw: str
) -> T:
    """Run `call` until Telegram accepts it: waits out RetryAfter, retries network errors and
    5xx with backoff, and falls back to `raw` as plain text when the entities are refused."""
    backoff = BACKOFF_S
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call(rendered)
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt == ATTEMPTS or wait > MAX_WAIT_S:
                raise
            log.info("telegram flood control: waiting %.1f s", wait)
            await asyncio.sleep(wait)
        except BadRequest as exc:
            if rendered.is_plain or not is_entity_error(exc):
                raise
            log.warning("telegram refused the formatting (%s); sending plain text", exc.message)
            rendered = plain(raw)
        except NetworkError as exc:  # timeouts and 5xx; BadRequest is a subclass, caught above
            if attempt == ATTEMPTS:
                raise
            log.info("telegram network error (%s); retrying in %.2f s", exc.message, backoff)
            await asyncio.sleep(backoff)
            backoff *= 2
    raise AssertionError("unreachable")


class Outbox:
    """The calls one chat (or topic) needs, bound to where they go.

    `send_once`/`edit_once` make a single attempt (for streamed previews, which the next preview
    or the final text supersedes); `send`/`edit` keep at it until Telegram accepts. `pace`
    tells the bot's send pacing (send_pacing.py) how urgent the call is.
    """

    def __init__(self, bot: Bot, chat_id: int, thread_id: int | None) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.thread_id = thread_id
        self._paced = isinstance(bot, ExtBot) and bot.rate_limiter is not None

    def _pace(self, pace: Pace | None) -> dict[str, Any]:
        return {"rate_limit_args": pace} if pace is not None and self._paced else {}

    async def send_once(
        self,
        rendered: Rendered,
        *,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
        pace: Pace | None = None,
    ) -> Message:
        return await self.bot.send_message(
            chat_id=self.chat_id,
            text=rendered.text,
            entities=rendered.entities or None,
            message_thread_id=self.thread_id,
            reply_parameters=(
                ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                if reply_to
                else None
            ),
            reply_markup=markup,
            **self._pace(pace),
        )

    async def edit_once(
        self, message_id: int, rendered: Rendered, *, pace: Pace | None = None
    ) -> None:
        await self.bot.edit_message_text(
            text=rendered.text,
            chat_id=self.chat_id,
            message_id=message_id,
            entities=rendered.entities or None,
            **self._pace(pace),
        )

    async def send(
        self,
        rendered: Rendered,
        raw: str,
        *,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
        pace: Pace | None = None,
    ) -> Message:
        return await until_accepted(
            lambda r: self.send_once(r, reply_to=reply_to, markup=markup, pace=pace), rendered, raw
        )

    async def edit(
        self, message_id: int, rendered: Rendered, raw: str, *, pace: Pace | None = None
    ) -> bool:
        """Edit a message; False when it no longer exists (the user deleted it)."""
        try:
            await until_accepted(lambda r: self.edit_once(message_id, r, pace=pace), rendered, raw)
        except BadRequest as exc:
            if is_not_modified(exc):
                return True
            if is_edit_target_gone(exc):
                return False
            raise
        return True

    async def draft(self, draft_id: int, rendered: Rendered) -> None:
        await self.bot.send_message_draft(
            chat_id=self.chat_id,
            draft_id=draft_id,
            text=rendered.text,
            entities=rendered.entities or None,
            message_thread_id=self.thread_id,
        )

    async def media(
        self, kind: str, data: bytes, caption: str, *, reply_to: int | None = None
    ) -> Message:
        """A photo ("photo", sendPhoto) or voice message ("voice", sendVoice: OGG/Opus as it
        is) uploaded as multipart, with a plain caption; retried as text is."""
        send = self.bot.send_photo if kind == "photo" else self.bot.send_voice
        filename = "image.png" if kind == "photo" else "voice.ogg"

        async def call(rendered: Rendered) -> Message:
            return await send(
                self.chat_id,
                data,
                caption=rendered.text or None,
                filename=filename,
                message_thread_id=self.thread_id,
                reply_parameters=(
                    ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                    if reply_to
                    else None
                ),
            )

        return await until_accepted(call, plain(caption), caption)

    async def delete(self, message_id: int) -> None:
        try:
            await self.bot.delete_message(chat_id=self.chat_id, message_id=message_id)
        except TelegramError as exc:
            log.info("could not delete message %s: %s", message_id, exc)

    async def typing(self) -> None:
        await self.bot.send_chat_action(
            chat_id=self.chat_id, action="typing", message_thread_id=self.thread_id
        )
