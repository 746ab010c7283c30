"""Pacing of Bot API calls by Telegram's limits, without holding up a reply's first text.

Telegram's Bots FAQ: in one chat avoid more than about one message per second (short bursts
are tolerated); at most 20 messages per minute in a group; about 30 messages per second for
bulk notifications. Edits share a chat's limit with messages (Telegram's Bot API maintainer in
tdlib/td#2592). Hence, per call:

- new messages and edits are paced per chat: at most 20 in any 60 s in a group or channel; in a
  private chat one a second on average, in bursts of up to 3;
- new messages also take from the bot-wide budget (`max_messages_per_s` a second on average,
  in bursts of up to one second's worth, as PTB's AIORateLimiter; 0 = off); edits of a message
  already on screen do not;
- drafts (`sendMessageDraft`, an ephemeral preview made to be re-sent as an answer grows) are
  paced by the adapter's edit interval alone;
- `Pace.FIRST` (a reply's first visible text) is served before everything else waiting, in its
  chat and in the bot-wide queue;
- `Pace.PREVIEW` (a streamed update that the next one supersedes) never waits: it goes at once
  while its chat has room to spare, or raises `Deferred`; so no stale preview queues up behind
  a newer one or takes the room a reply's final text needs;
- a RetryAfter holds back the chat it came from, no other (bot_api.py waits and retries).

Everything else (typing, callbacks, getChatMember, ...) passes straight through.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import enum
import heapq
import itertools
import math
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

GROUP_LIMIT = (20, 60.0)  # at most 20 messages in any 60 s
GROUP_SPARE = 10  # of those, previews leave 10 to first texts and final texts
PRIVATE_RATE = (1.0, 3)  # 1 message a second, bursts of 3
PRIVATE_SPARE = 1

_NOT_MESSAGES = frozenset({"sendChatAction", "sendMessageDraft"})
_COPIES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


class Pace(enum.Enum):
    """`rate_limit_args` for a call."""

    FIRST = "first"  # a reply's first visible text: ahead of everything waiting
    PREVIEW = "preview"  # a streamed update: at once or not at all


class Deferred(TelegramError):
    """A `Pace.PREVIEW` call could not go out at once and was not made."""


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns when `retry_after` is read as an int; the value is the same either way.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


_order = itertools.count()


class Pacer:
    """Lets calls through at a budget's pace; waiters go by priority, then in arrival order.

    A slot is reserved while its caller still waits for something else (the bot-wide budget)
    and spent when the call actually goes out (`commit`), so the budget counts real send times.
    """

    def __init__(self, *, spare: int = 0) -> None:
        self._spare = spare  # units a preview must leave free for calls that must get through
        self._reserved = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._pump: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.held_until = 0.0

    def _free_at(self, now: float, units: int) -> float:
        """When `units` more calls fit the budget (inf: not before a reserved one is spent)."""
        raise NotImplementedError

    def _spend(self, now: float) -> None:
        raise NotImplementedError

    def _ready_at(self, now: float, units: int) -> float:
        return max(now, self.held_until, self._free_at(now, self._reserved + units))

    def can_take(self, now: float, *, preview: bool = False) -> bool:
        if self._waiters:
            return False
        return self._ready_at(now, 1 + self._spare if preview else 1) <= now

    def take_now(self, now: float) -> None:
        """Spend a slot that `can_take` allowed."""
        self._spend(now)

    async def reserve(self, priority: int) -> None:
        """Wait for a slot and hold it until `commit` or `release`."""
        if self.can_take(time.monotonic()):
            self._reserved += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(_order), waiter))
        if self._pump is None:
            self._pump = asyncio.create_task(self._serve())
        await waiter

    def commit(self) -> None:
        self._reserved -= 1
        self._spend(time.monotonic())
        self._changed.set()

    def release(self) -> None:
        self._reserved -= 1
        self._changed.set()

    async def take(self, priority: int) -> None:
        await self.reserve(priority)
        self.commit()

    def hold(self, until: float) -> None:
        self.held_until = max(self.held_until, until)

    def close(self) -> None:
        """Stop serving: calls still waiting end with CancelledError."""
        for _, _, waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()
        if self._pump is not None:
            self._pump.cancel()

    def idle(self, now: float) -> bool:
        """Nothing waiting or held, and the budget is whole again (safe to forget)."""
        raise NotImplementedError

    async def _serve(self) -> None:
        try:
            while self._waiters:
                now = time.monotonic()
                at = self._ready_at(now, 1)
                if at > now:
                    self._changed.clear()
                    changed = asyncio.ensure_future(self._changed.wait())
                    try:
                        await asyncio.wait({changed}, timeout=None if at == math.inf else at - now)
                    finally:
                        changed.cancel()
                    continue
                _, _, waiter = heapq.heappop(self._waiters)
                if not waiter.done():  # else its caller was cancelled while waiting
                    self._reserved += 1
                    waiter.set_result(None)
        finally:
            self._pump = None


class SlidingWindow(Pacer):
    """At most `limit` calls in any `period_s` seconds."""

    def __init__(self, limit: int, period_s: float, *, spare: int = 0) -> None:
        super().__init__(spare=spare)
        self.limit = limit
        self.period_s = period_s
        self._stamps: deque[float] = deque()

    def _free_at(self, now: float, units: int) -> float:
        while self._stamps and self._stamps[0] <= now - self.period_s:
            self._stamps.popleft()
        excess = len(self._stamps) + units - self.limit
        if excess <= 0:
            return now
        if excess > len(self._stamps):
            return math.inf
        return self._stamps[excess - 1] + self.period_s

    def _spend(self, now: float) -> None:
        self._stamps.append(now)

    def idle(self, now: float) -> bool:
        return (
            not self._waiters
            and not self._reserved
            and now >= self.held_until
            and self._free_at(now, self.limit) <= now
        )


class TokenBucket(Pacer):
    """`rate_per_s` calls a second on average, up to `burst` at once after a quiet spell."""

    def __init__(self, rate_per_s: float, burst: int, *, spare: int = 0) -> None:
        super().__init__(spare=spare)
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._at = time.monotonic()

    def _level(self, now: float) -> float:
        return min(float(self.burst), self._tokens + (now - self._at) * self.rate_per_s)

    def _free_at(self, now: float, units: int) -> float:
        if units > self.burst:
            return math.inf
        missing = units - self._level(now)
        return now if missing <= 0 else now + missing / self.rate_per_s

    def _spend(self, now: float) -> None:
        self._tokens = self._level(now) - 1
        self._at = now

    def idle(self, now: float) -> bool:
        return (
            not self._waiters
            and not self._reserved
            and now >= self.held_until
            and self._level(now) >= self.burst
        )


class SendPacing(BaseRateLimiter[Pace]):
    """The bot's outgoing pacing, plugged into PTB's `BaseRateLimiter` hook: per chat, a
    bot-wide budget for new messages, and priorities."""

    def __init__(self, max_messages_per_s: int = 30) -> None:
        # A bucket, not a window: a backlog drains evenly instead of in a burst every second.
        self._global = (
            TokenBucket(max_messages_per_s, max_messages_per_s) if max_messages_per_s else None
        )
        self._chats: dict[int | str, Pacer] = {}
        self._prune_at = 1024

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Cancel calls still waiting (PTB shuts the bot down after updates in flight ended)."""
        for pacer in [*self._chats.values(), *([self._global] if self._global else [])]:
            pacer.close()
        self._chats.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Pace | None,
    ) -> JSONResult:
        chat_id = data.get("chat_id")
        is_message = _is_new_message(endpoint)
        paced = is_message or endpoint.startswith("edit")
        if chat_id is None or not (paced or endpoint == "sendMessageDraft"):
            return await callback(*args, **kwargs)
        chat = self._chat(chat_id)
        now = time.monotonic()
        if not paced:  # a draft
            if now < chat.held_until:
                raise Deferred(f"{endpoint} held back by flood control")
        elif rate_limit_args is Pace.PREVIEW:
            budget = self._global if is_message else None
            if not chat.can_take(now, preview=True) or (budget and not budget.can_take(now)):
                raise Deferred(f"{endpoint} preview skipped: chat {chat_id} at its rate")
            chat.take_now(now)
            if budget:
                budget.take_now(now)
        else:
            priority = 0 if rate_limit_args is Pace.FIRST else 1
            await chat.reserve(priority)
            try:
                if is_message and self._global:
                    await self._global.take(priority)
            except BaseException:
                chat.release()
                raise
            chat.commit()
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            chat.hold(time.monotonic() + retry_after_seconds(exc))
            raise

    def _chat(self, chat_id: int | str) -> Pacer:
        key: int | str = chat_id
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            key = int(chat_id)
        pacer = self._chats.get(key)
        if pacer is None:
            if len(self._chats) >= self._prune_at:
                self._prune()
            if isinstance(key, int) and key > 0:  # a user; groups and channels are negative
                pacer = TokenBucket(*PRIVATE_RATE, spare=PRIVATE_SPARE)
            else:
                pacer = SlidingWindow(*GROUP_LIMIT, spare=GROUP_SPARE)
            self._chats[key] = pacer
        return pacer

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [k for k, w in self._chats.items() if w.idle(now)]:
            del self._chats[key]
        self._prune_at = max(1024, 2 * len(self._chats))


def _is_new_message(endpoint: str) -> bool:
    return (endpoint.startswith("send") and endpoint not in _NOT_MESSAGES) or endpoint in _COPIES
