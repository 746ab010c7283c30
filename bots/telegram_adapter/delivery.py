"""One turn's replies into Telegram messages: streamed previews, then the complete answer.

While the model writes, the answer is shown as it grows: a draft (`sendMessageDraft`) in private
chats, otherwise a message that is edited, at most once per `edit_interval_s`. Previews are best
effort. When `AnswerDone` arrives the complete text is laid out in 4096-unit parts and every part
is made to show exactly its text (edited, sent, or surplus messages deleted), with retries, so
whatever previews missed, the user ends up with every character.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bots.telegram_adapter.bot_api import Outbox, is_entity_error
from bots.telegram_adapter.formatting import (
    Rendered,
    collapsed,
    plain,
    render,
    split_for_telegram,
)
from bots.telegram_adapter.send_pacing import Deferred, Pace, retry_after_seconds
from core.boundary import (
    AnswerDelta,
    AnswerDone,
    Answering,
    Choice,
    CommandReply,
    Failure,
    ImageReply,
    Notice,
    Reasoning,
    ReplyEvent,
    Thinking,
    VoiceReply,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_draft_ids = itertools.count(1)


@dataclass
class DraftSupport:
    """Whether the Bot API server takes sendMessageDraft; switched off for good on refusal."""

    available: bool = True


@dataclass(frozen=True, slots=True)
class StreamPolicy:
    edit_interval_s: float = 1.0
    typing_interval_s: float = 4.0
    use_drafts: bool = True
    # Where drafts show the answer as it is written, typing only fills the wait for its first
    # words: it starts this late, so a model that answers at once costs no chat action (one
    # Bot API call of three per turn, python -m bench --telegram), and stops at the first draft.
    typing_before_draft_s: float = 0.5


@dataclass
class _Shown:
    message_id: int
    rendered: Rendered


class TurnDelivery:
    """Delivers the ReplyEvents of one core turn into one chat or topic."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        private: bool,
        reply_to: int | None,
        policy: StreamPolicy,
        drafts: DraftSupport,
        keyboard: Callable[[tuple[Choice, ...]], InlineKeyboardMarkup | None],
    ) -> None:
        self._out = outbox
        self._reply_to = reply_to  # the first message of the turn replies to the user's (groups)
        self._policy = policy
        self._drafts = drafts
        self._keyboard = keyboard
        self._use_draft = private and policy.use_drafts and drafts.available
        self._draft_id = next(_draft_ids)
        self._last_draft: Rendered | None = None
        self._buffer = ""
        self._shown: list[_Shown] = []
        self._visible = False  # has the user seen any text of this turn (draft or message)?
        self._next_preview_at = 0.0
        self._flood_until = 0.0  # Telegram asked us to hold off until then (RetryAfter)
        self._typing: _TypingIndicator | None = None

    async def run(self, events: AsyncIterator[ReplyEvent], *, typing_now: bool = False) -> None:
        """Consume the core's events to the end (or until cancelled).

        Typing shows from the core's `Answering` on: a message waiting behind others of its chat
        sends no chat actions of its own.
        """
        typing = self._typing = _TypingIndicator(
            self._out,
            self._policy.typing_interval_s,
            first_after_s=self._policy.typing_before_draft_s if self._use_draft else 0.0,
        )
        if typing_now:
            typing.start()
        try:
            async for event in events:
                match event:
                    case Answering():
                        typing.start()
                    case Thinking(text=text):
                        # A placeholder where the answer will come; the answer replaces it.
                        if not self._buffer:
                            await self._preview(text)
                    case Reasoning(text=text):
                        await self._show_reasoning(text)
                    case AnswerDelta(text=text):
                        typing.start()  # an unaddressed message the core chose to answer
                        self._buffer += text
                        await self._preview()
                    case Notice(text=text):  # e.g. "history trimmed", before the answer
                        await self._send_text(text)
                    case AnswerDone(text=text):
                        typing.stop()
                        await self._finish(text)
                    case ImageReply(data=data, caption=caption):
                        typing.stop()
                        await self._send_media("photo", data, caption)
                    case VoiceReply(data=data, caption=caption):
                        await self._send_media("voice", data, caption)
                    case CommandReply(text=text, choices=choices):
                        typing.stop()
                        await self._send_text(text, self._keyboard(choices))
                    case Failure(text=text):
                        typing.stop()
                        # Keep what the user already saw (a placeholder goes), then say what
                        # failed.
                        if self._buffer or self._shown:
                            await self._finish(self._buffer)
                        await self._send_text(text, formatted=False)
        finally:
            typing.stop()

    # ----- streaming ---------------------------------------------------------------------

    async def _preview(self, placeholder: str | None = None) -> None:
        now = time.monotonic()
        if now < self._next_preview_at and placeholder is None:
            return
        parts = split_for_telegram(self._buffer if placeholder is None else placeholder)
        if not parts:
            return
        self._next_preview_at = now + self._policy.edit_interval_s
        try:
            if self._use_draft:
                await self._preview_draft(parts[-1])
            else:
                await self._preview_messages(parts)
        except RetryAfter as exc:
            self._flood_until = time.monotonic() + retry_after_seconds(exc)
            self._next_preview_at = self._flood_until
        except Deferred as exc:  # the chat is at its rate; the next preview or the final text
            log.debug("streamed preview skipped: %s", exc)
        except TelegramError as exc:  # previews are best effort; the final text is not
            log.info("streamed preview failed: %s", exc)

    async def _preview_draft(self, part: str) -> None:
        rendered = render(part)
        if rendered == self._last_draft:
            return
        try:
            _, self._last_draft = await _with_plain_fallback(
                lambda r: self._out.draft(self._draft_id, r), rendered, part
            )
            self._visible = True
            if self._typing is not None:  # the draft shows the answer being written
                self._typing.stop()
        except (RetryAfter, Deferred):
            raise
        except TelegramError as exc:
            if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
                raise  # a timeout or 5xx says nothing about whether drafts work
            # Older or self-hosted Bot API servers lack the method (404) or refuse the peer.
            self._drafts.available = False
            self._use_draft = False
            log.warning("sendMessageDraft unavailable (%s); streaming by editing instead", exc)
            await self._preview_messages(split_for_telegram(self._buffer))

    async def _preview_messages(self, parts: list[str]) -> None:
        for index, part in enumerate(parts):
            rendered = render(part)
            if index < len(self._shown):
                shown = self._shown[index]
                if shown.rendered == rendered:
                    continue
                _, shown.rendered = await _with_plain_fallback(
                    partial(self._out.edit_once, shown.message_id, pace=Pace.PREVIEW),
                    rendered,
                    part,
                )
            else:
                # The first message is what the user waits for: it queues, ahead of others.
                pace = Pace.PREVIEW if self._visible else Pace.FIRST
                message, used = await _with_plain_fallback(
                    lambda r: self._out.send_once(r, reply_to=self._reply_to, pace=pace),  # noqa: B023
                    rendered,
                    part,
                )
                self._reply_to = None
                self._visible = True
                self._shown.append(_Shown(message.message_id, used))

    async def _show_reasoning(self, text: str) -> None:
        """The model's thinking, folded, in a message of its own before the answer: the
        "thinking…" placeholder message becomes it when there is one."""
        quote = collapsed(text)
        await self._wait_out_flood()
        if self._shown and not self._use_draft:
            placeholder = self._shown.pop(0)
            if await self._out.edit(placeholder.message_id, quote, text, pace=self._pace):
                return
        await self._send(quote, text)

    # ----- the complete answer -----------------------------------------------------------

    async def _finish(self, text: str) -> None:
        await self._wait_out_flood()
        parts = split_for_telegram(text)
        shown, self._shown = (self._shown if not self._use_draft else []), []
        self._buffer = ""
        for index, part in enumerate(parts):
            rendered = render(part)
            if index < len(shown):
                if shown[index].rendered == rendered:
                    continue
                if await self._out.edit(shown[index].message_id, rendered, part, pace=self._pace):
                    continue
            await self._send(rendered, part)
        for surplus in shown[len(parts) :]:
            await self._out.delete(surplus.message_id)

    async def _send_text(
        self, text: str, markup: InlineKeyboardMarkup | None = None, *, formatted: bool = True
    ) -> None:
        await self._wait_out_flood()
        parts = split_for_telegram(text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self._send(
                render(part) if formatted else plain(part), part, markup if last else None
            )

    async def _send(
        self, rendered: Rendered, raw: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        await self._out.send(rendered, raw, reply_to=self._reply_to, markup=markup, pace=self._pace)
        self._reply_to = None
        self._visible = True

    async def _send_media(self, kind: str, data: bytes, caption: str) -> None:
        await self._wait_out_flood()
        await self._out.media(kind, data, caption, reply_to=self._reply_to)
        self._reply_to = None
        self._visible = True

    @property
    def _pace(self) -> Pace | None:
        """Text that must get through: urgent while the user has seen nothing of this turn."""
        return None if self._visible else Pace.FIRST

    async def _wait_out_flood(self) -> None:
        delay = self._flood_until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class _TypingIndicator:
    """Re-sends the typing status every `interval_s` (Telegram shows it ~5 s) until stopped,
    the first time `first_after_s` after `start`."""

    def __init__(self, outbox: Outbox, interval_s: float, first_after_s: float = 0.0) -> None:
        self._out = outbox
        self._interval_s = interval_s
        self._first_after_s = first_after_s
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        if self._task is None and not self._stopped:
            self._task = asyncio.create_task(self._loop())

    def stop(self) -> None:
        # Not awaited: awaiting here could swallow a cancellation aimed at the turn itself.
        self._stopped = True
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        if self._first_after_s > 0:
            await asyncio.sleep(self._first_after_s)
        while True:
            try:
                await self._out.typing()
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except TelegramError as exc:
                log.debug("typing indicator failed: %s", exc)
            await asyncio.sleep(self._interval_s)


async def _with_plain_fallback(
    call: Callable[[Rendered], Awaitable[T]], rendered: Rendered, raw: str
) -> tuple[T, Rendered]:
    """One attempt, and one more as plain text if Telegram refuses the entities; returns the
    result and what was actually shown."""
    try:
        return await call(rendered), rendered
    except BadRequest as exc:
        if rendered.is_plain or not is_entity_error(exc):
            raise
        fallback = plain(raw)
        return await call(fallback), fallback
