"""Which fetched updates have started and which were answered, so that none is confirmed to
Telegram before its turn began, and a stop confirms only what was answered.

Telegram confirms updates by offset: a getUpdates call with offset N drops every update below N
for good (and a webhook request answered 200 is delivered for good). Confirming an update that
never got its turn loses it; leaving it unconfirmed makes Telegram deliver it again to the next
run, where the core answers a message it already answered only once.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bots.inflight import RepliesInFlight
from core.boundary import ReplyEvent, Waiting

UNBOUNDED = sys.maxsize


class UpdateLedger:
    """Updates handed to PTB: which wait for a processing slot, which are not answered yet."""

    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Event] = {}
        self._unanswered: set[int] = set()
        self._stopping = asyncio.Event()

    def fetched(self, update_id: int) -> None:
        self._waiting.setdefault(update_id, asyncio.Event())
        self._unanswered.add(update_id)

    def started(self, update_id: int) -> None:
        waiting = self._waiting.pop(update_id, None)
        if waiting is not None:
            waiting.set()

    def answered(self, update_id: int) -> None:
        self._unanswered.discard(update_id)

    def stop(self) -> None:
        """No update may be confirmed from here on unless it has already started."""
        self._stopping.set()

    async def until_started(self, update_ids: Iterable[int]) -> bool:
        """Wait until every one of `update_ids` has started; False if a stop came first."""
        waits = [self._waiting[i] for i in update_ids if i in self._waiting]
        for waiting in waits:
            if self._stopping.is_set():
                return False
            stopping = asyncio.ensure_future(self._stopping.wait())
            started = asyncio.ensure_future(waiting.wait())
            await asyncio.wait({stopping, started}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            started.cancel()
            if not waiting.is_set():
                return False
        return True

    def first_unanswered(self, at_least: int) -> int | None:
        """The lowest update id from `at_least` on that was fetched but not answered."""
        return min((i for i in self._unanswered if i >= at_least), default=None)


class Slot:
    """One update's place among those processed at once; given up while the update waits
    behind others of its conversation, taken again at its turn's first event."""

    def __init__(self, free: asyncio.Semaphore) -> None:
        self._free = free
        self._held = False

    async def take(self) -> None:
        if not self._held:
            await self._free.acquire()  # a cancellation here leaves it not held
            self._held = True

    def give_up(self) -> None:
        if self._held:
            self._held = False
            self._free.release()


class UpdateSlots:
    """At most `size` updates are processed at once (translated, or their turn running).

    An update whose message waits in its conversation's backlog (the core says `Waiting`) gives
    its slot up until its turn runs: a flooded chat holds one slot, whatever its backlog, and
    other chats still get theirs. PTB's own bound would keep every waiting message's slot.
    """

    def __init__(self, size: int) -> None:
        self._free = asyncio.Semaphore(size)
        self._slots: dict[int, Slot] = {}

    @asynccontextmanager
    async def slot(self, update_id: int) -> AsyncIterator[Slot]:
        slot = Slot(self._free)
        await slot.take()
        self._slots[update_id] = slot
        try:
            yield slot
        finally:
            del self._slots[update_id]
            slot.give_up()

    def of(self, update_id: int) -> Slot | None:
        """The slot of an update being processed."""
        return self._slots.get(update_id)


async def free_while_waiting(
    events: AsyncIterator[ReplyEvent], slot: Slot | None
) -> AsyncIterator[ReplyEvent]:
    """The core's events without `Waiting`, `slot` given up from `Waiting` to the next event."""
    async for event in events:
        if isinstance(event, Waiting):
            if slot is not None:
                slot.give_up()
            continue
        if slot is not None:
            await slot.take()
        yield event


class LedgerUpdates(BaseUpdateProcessor):
    """PTB's concurrent update processing, bounded by `UpdateSlots` instead of PTB's semaphore,
    that tells the ledger when an update gets its slot and when its handlers ran to the end.

    An update whose turn was cancelled at the grace period, or skipped because the bot was
    already stopping, is not answered.
    """

    def __init__(self, slots: UpdateSlots, ledger: UpdateLedger, replies: RepliesInFlight) -> None:
        # PTB's own bound stays out of the way: every update is handed over at once and waits
        # for one of `slots`, which an update waiting behind its conversation gives back.
        super().__init__(UNBOUNDED)
        self._slots = slots
        self._ledger = ledger
        self._replies = replies

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        try:
            async with self._slots.slot(update.update_id):
                will_answer = self._replies.accepting
                self._ledger.started(update.update_id)
                await coroutine  # a cancellation propagates: the update stays unanswered
                if will_answer:
                    self._ledger.answered(update.update_id)
        finally:
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()  # never started (cancelled while waiting for a slot): no warning

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
