"""The inbox: updates are stored before they are acknowledged, then handled by whichever
process holds their conversation's lock, one at a time and in update order.

Why this shape: a PaaS router spreads a bot's webhook deliveries over its web processes at
random, so two messages of one chat often land on two processes. Each process stores what it
receives (answering 200 only once the row is committed: an acknowledged update survives a
kill -9), then tries its conversation's advisory lock. The holder drains the conversation:
the oldest pending update, marked done, the next one... so every turn sees the previous
answer, whichever process received either. A process that finds the lock taken leaves its
update to the holder, which looks again after letting go of the lock (an update stored before
that is never stranded). A process that dies frees its locks with its connection; the others'
sweep finds its conversations' pending updates and takes them over. A redelivered update is
stored once (its id is the key), so it is handled once; one whose first handling died half way
is answered by the core's own redelivery rule (the stored, unanswered message is answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.boundary import StoredUpdate as Received
from core.cluster.locks import SessionLocks
from core.log_context import current_conversation
from core.storage.errors import StorageError
from core.storage.inbox import InboxStore
from core.storage.schema import utcnow

log = logging.getLogger("core.cluster")

Handler = Callable[[list[Received]], Awaitable[None]]

DONE_KEPT = timedelta(days=1)  # Telegram stops redelivering long before
PRUNE_EVERY_S = 3600.0
SWEEP_BATCH = 500


class Inbox:
    def __init__(
        self,
        store: InboxStore,
        locks: SessionLocks,
        platform: str,
        handle: Handler,
        *,
        concurrency: int,
        sweep_s: float = 2.0,
    ) -> None:
        self._store = store
        self._locks = locks
        self._platform = platform
        self._handle = handle
        self._room = asyncio.Semaphore(concurrency)
        self._sweep_s = sweep_s
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # kicked while draining: look once more before leaving
        self._sweeping: asyncio.Task[None] | None = None
        self.accepting = True

    def __len__(self) -> int:
        return len(self._drains)

    async def receive(
        self, update_id: int, conversation: str, album: str | None, payload: str
    ) -> bool:
        """Store an update and start on its conversation: True once it is stored (now, or
        before: a redelivery), False when the database cannot take it now."""
        try:
            new = await self._store.add(self._platform, update_id, conversation, album, payload)
        except StorageError:
            log.warning("inbox: could not store update %d; it must be delivered again", update_id)
            return False
        if new:
            self.kick(conversation)
        return True

    def kick(self, conversation: str) -> None:
        """Handle the conversation's pending updates here, unless another process does."""
        if not self.accepting:
            return
        if conversation in self._drains:
            self._again.add(conversation)
            return
        task = asyncio.create_task(self._drain(conversation), name=f"inbox {conversation}")
        self._drains[conversation] = task
        task.add_done_callback(lambda _: self._drains.pop(conversation, None))

    def start(self) -> None:
        """Sweep for updates nobody handles (left by a process that died) from now on."""
        self._sweeping = asyncio.create_task(self._sweep_forever(), name="inbox sweep")

    async def stop(self, grace_s: float) -> None:
        """Take no new conversation; the steps running get `grace_s` to end, then are cancelled
        (their updates stay pending, for another process or the next start)."""
        self.accepting = False
        if self._sweeping is not None:
            self._sweeping.cancel()
            await asyncio.gather(self._sweeping, return_exceptions=True)
        running = list(self._drains.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_s)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("inbox: cancelled %d turns still running at shutdown", len(pending))
                await asyncio.gather(*pending, return_exceptions=True)

    async def _drain(self, conversation: str) -> None:
        current_conversation.set(conversation)  # this task's own context
        try:
            while self.accepting:
                self._again.discard(conversation)
                async with self._room:
                    if not await self._locks.try_lock(conversation):
                        return  # another process drains it, and will look again after
                    try:
                        await self._drain_locked(conversation)
                    finally:
                        with contextlib.suppress(Exception):
                            await self._locks.unlock(conversation)
                # An update stored while we held the lock, by a process that found it taken.
                if conversation not in self._again and not await self._store.next_step(
                    self._platform, conversation
                ):
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database is unreachable for longer than the stores retry: the updates stay
            # pending and the sweep comes back for them.
            log.exception("inbox: %s could not be handled now", conversation)

    async def _drain_locked(self, conversation: str) -> None:
        step = await self._store.next_step(self._platform, conversation)
        while step:
            done = [r.update_id for r in step]
            try:
                await self._handle(step)  # a cancellation leaves the step pending
            except Exception:
                # Not a turn's failure (the core answers those): an update that cannot even be
                # read. Done anyway, or it would hold its conversation up at every sweep.
                log.exception("inbox: update %s could not be handled; skipped", done)
            step = await self._store.done_then_next(self._platform, conversation, done)
            if not self.accepting:
                return

    async def sweep(self) -> int:
        """Start on the conversations whose updates have waited longer than a sweep; how many."""
        before = utcnow() - timedelta(seconds=self._sweep_s)
        waiting = await self._store.waiting_conversations(self._platform, before, SWEEP_BATCH)
        fresh = [c for c in waiting if c not in self._drains]
        for conversation in fresh:
            self.kick(conversation)
        return len(fresh)

    async def _sweep_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        while True:
            try:
                if loop.time() >= next_prune:
                    next_prune = loop.time() + PRUNE_EVERY_S
                    await self._store.prune(DONE_KEPT)
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("inbox: sweep failed; trying again", exc_info=True)
            await asyncio.sleep(self._sweep_s)
