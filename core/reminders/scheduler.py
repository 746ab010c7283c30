"""Delivering reminders when they fall due, through the adapters that run in this process.

The scheduler sleeps until the soonest pending reminder of the platforms it can reach (woken
early when one is set here, and every RECHECK_S for those set by another process), claims the
due ones in the database (core/storage/reminders.py: one process wins each), has the platform's
adapter send them, then marks them delivered. Reminders that fell due while no bot ran are
claimed at start and said to be late.

Exactly once, with one narrow exception: a process that dies (or loses the database) after the
platform took a reminder and before it was marked delivered leaves a claim that another process
re-takes when the lease (LEASE_S) runs out, and that reminder is then sent twice. Nothing is
lost: a claim that was never delivered is re-taken the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from core.boundary import ChatPush, Notice
from core.reminders.timezones import local_time
from core.storage.errors import StorageError
from core.storage.reminders import DELIVERED, FAILED, Reminder, ReminderStore
from core.texts import Texts

log = logging.getLogger("core.reminders")


class PushOffer(Protocol):
    """Where an adapter offers the way it sends to its chats unasked (the scheduler)."""

    def offer(self, platform: str, push: ChatPush) -> Callable[[], None]:
        """Use `push` for `platform` from now on; the returned call withdraws it."""
        ...


Clock = Callable[[], datetime]

LEASE_S = 120.0  # a claim older than this is taken again: its process died or its push failed
RECHECK_S = 60.0  # reminders set by another process are found at least this often
LATE_AFTER_S = 120.0  # delivered later than this after its time: the reminder says so
PUSH_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 5  # platform refusals (bot removed from the chat...) before giving up on one
STOP_TIMEOUT_S = 10.0


def system_clock() -> datetime:
    return datetime.now(UTC)


def process_name() -> str:
    """Who holds a claim: host, process and a random part (a restarted process is another)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ReminderScheduler:
    """Runs from `start()` to `stop()` (bootstrap does both); adapters `offer` their pushers."""

    def __init__(
        self,
        store: ReminderStore,
        clock: Clock = system_clock,
        *,
        owner: str | None = None,
        lease_s: float = LEASE_S,
        recheck_s: float = RECHECK_S,
        max_attempts: int = MAX_ATTEMPTS,
        claim_batch: int = 50,
    ) -> None:
        self._store = store
        self.clock = clock
        self.owner = owner or process_name()
        self._lease = timedelta(seconds=lease_s)
        self._recheck_s = recheck_s
        self._max_attempts = max_attempts
        self._claim_batch = claim_batch
        self._pushers: dict[str, ChatPush] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sending = False  # a push is under way: stopping waits for it to be marked
        self.delivered = 0  # in this process, for tests and logs

    def offer(self, platform: str, push: ChatPush) -> Callable[[], None]:
        """Deliver `platform`'s reminders through `push` until the returned function is called."""
        self._pushers[platform] = push
        self.poke()

        def withdraw() -> None:
            if self._pushers.get(platform) is push:
                del self._pushers[platform]

        return withdraw

    def poke(self) -> None:
        """Look again now: a reminder was set, a pusher came, or the clock moved (tests)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="reminders")

    async def stop(self) -> None:
        """Let a reminder being sent finish and be marked (bounded), then end. Anything else
        (waiting, reading the database, retrying it) is simply cancelled."""
        if self._task is None:
            return
        self._stopping = True
        self.poke()
        if self._sending:
            await asyncio.wait({self._task}, timeout=STOP_TIMEOUT_S)
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            wait_s = self._recheck_s
            try:
                await self.deliver_due()
                wake_at = await self._store.next_wake(
                    list(self._pushers), self._lease, self._max_attempts
                )
                if wake_at is not None:
                    wait_s = (wake_at - self.clock()).total_seconds()
            except StorageError as error:  # the database is away: try again later
                log.warning("reminders: cannot read the database (%s); retrying", error)
            except Exception:  # a bug must not end reminders for good
                log.exception("reminders: delivery failed")
            if self._stopping:
                return
            # At least a moment between rounds, so a row that cannot be claimed never spins.
            wait_s = min(max(wait_s, 0.05), self._recheck_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait_s)

    async def deliver_due(self) -> int:
        """Claim and deliver every reminder due now on the platforms offered; how many were
        delivered (by this process)."""
        count = 0
        while not self._stopping:
            now = self.clock()
            claimed = await self._store.claim_due(
                list(self._pushers),
                self.owner,
                now,
                self._lease,
                self._max_attempts,
                self._claim_batch,
            )
            if not claimed:
                return count
            for reminder in claimed:
                count += await self._deliver(reminder, now)
        return count

    async def _deliver(self, reminder: Reminder, now: datetime) -> int:
        self._sending = True
        try:
            return await self._send(reminder, now)
        finally:
            self._sending = False

    async def _send(self, reminder: Reminder, now: datetime) -> int:
        push = self._pushers.get(reminder.key.platform)
        sent = False
        if push is not None:
            try:
                sent = await asyncio.wait_for(
                    push.push(reminder.key, (Notice(reminder_text(reminder, now)),)),
                    PUSH_TIMEOUT_S,
                )
            except Exception as error:  # an adapter must not stop the others' reminders
                log.warning(
                    "reminders: sending #%d to %s failed: %s",
                    reminder.id,
                    reminder.key,
                    type(error).__name__,
                )
        if sent:
            await self._store.finish(reminder.id, self.owner, DELIVERED, self.clock())
            self.delivered += 1
            log.info("reminders: #%d delivered to %s", reminder.id, reminder.key)
            return 1
        if reminder.attempts >= self._max_attempts:
            await self._store.finish(reminder.id, self.owner, FAILED, self.clock())
            log.warning(
                "reminders: #%d to %s given up after %d attempts",
                reminder.id,
                reminder.key,
                reminder.attempts,
            )
        # Otherwise the claim stays: it is taken again when its lease runs out.
        return 0


def reminder_text(reminder: Reminder, now: datetime) -> str:
    """The reminder as sent, e.g. "⏰ Reminder for Alice: call mum" (without a name where none
    is known: a private chat), saying so when it comes late."""
    texts = Texts(reminder.language)
    key = "reminder.due"
    if (now - reminder.due_at).total_seconds() > LATE_AFTER_S:
        key = "reminder.late"
    return texts.get(
        key if reminder.user_name else f"{key}_unnamed",
        name=reminder.user_name,
        text=reminder.text,
        when=local_time(reminder.due_at, reminder.timezone),
    )
