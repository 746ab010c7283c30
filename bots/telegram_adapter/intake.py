"""Which fetched updates have started and which were answered, so that none is confirmed to
Telegram before its turn began, and a stop confirms only what was answered.

Telegram confirms updates by offset: a getUpdates call with offset N drops every update below N
for good (and a webhook request answered 200 is delivered for good). Confirming an update that
never got its turn loses it; leaving it unconfirmed makes Telegram deliver it again to the next
run, where the core answers a message it already answered only once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bots.inflight import RepliesInFlight


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


class LedgerUpdates(BaseUpdateProcessor):
    """PTB's concurrent update processing (a bounded number of updates at once) that tells the
    ledger when an update gets its slot and when its handlers ran to the end.

    An update whose turn was cancelled at the grace period, or skipped because the bot was
    already stopping, is not answered.
    """

    def __init__(
        self, max_concurrent_updates: int, ledger: UpdateLedger, replies: RepliesInFlight
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._ledger = ledger
        self._replies = replies

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        will_answer = self._replies.accepting
        self._ledger.started(update.update_id)
        await coroutine  # a cancellation propagates: the update stays unanswered
        if will_answer:
            self._ledger.answered(update.update_id)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
