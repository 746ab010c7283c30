"""Calls waiting for the user's Yes or No. The turn that asks holds its conversation while it
waits, so the answer (a button press sending `/confirm ID yes|no`) is never queued behind it:
the service takes it before the conversation's queue, and the shared inbox gives a press a
conversation of its own (bots/telegram_adapter/shared_intake.py).

The question and its answer live in the database (core/storage/confirmations.py), because with
several processes the press may reach one that does not run the turn. The waiting turn reads
its row every `poll_s`; a press taken by this same process wakes it at once. Polling rather
than LISTEN/NOTIFY: one indexed read per waiting question every 0.3 s costs nothing next to a
turn, works the same on SQLite, and needs no listening connection to keep alive and re-listen
on after the database restarts (a missed notification would cost the answer)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import secrets
import time

from core.storage.confirmations import ConfirmationStore
from core.storage.errors import StorageError

log = logging.getLogger("core.tools")

POLL_S = 0.3  # how often a waiting turn looks for an answer another process took
# A question is answerable this long past its wait's timeout: the wait starts once the question
# has been delivered, which may take a while (the platform's pacing); the wait's own end, not
# this, decides the timeout.
EXPIRY_SLACK_S = 60.0


class Answered(enum.Enum):
    TAKEN = "taken"
    NOT_YOURS = "not_yours"  # someone else pressed: only the user who asked may answer
    UNKNOWN = "unknown"  # answered already, timed out, or never asked


class Confirmations:
    def __init__(self, store: ConfirmationStore, poll_s: float = POLL_S) -> None:
        self._store = store
        self._poll_s = poll_s
        self._answered_here: dict[str, asyncio.Event] = {}  # questions this process waits on

    async def ask(self, user_id: str, timeout_s: float) -> str:
        """A new question for `user_id`, answerable for about `timeout_s`: its id (for the
        buttons)."""
        confirm_id = secrets.token_urlsafe(6)
        now = time.time()
        await self._store.ask(confirm_id, user_id, now + timeout_s + EXPIRY_SLACK_S, now)
        self._answered_here[confirm_id] = asyncio.Event()
        return confirm_id

    async def wait(self, confirm_id: str, timeout_s: float) -> bool:
        """The user's answer; no answer within `timeout_s` is a No. The question is closed
        when this returns (or is cancelled)."""
        answered_here = self._answered_here.setdefault(confirm_id, asyncio.Event())
        try:
            await self._until_answered(confirm_id, answered_here, timeout_s)
        finally:
            self._answered_here.pop(confirm_id, None)
            answer = await self._closed(confirm_id)
        return answer is True

    async def answer(self, confirm_id: str, user_id: str, yes: bool) -> Answered:
        asker = await self._store.answer(confirm_id, user_id, yes, time.time())
        if asker is None:
            return Answered.UNKNOWN
        if asker != user_id:
            return Answered.NOT_YOURS
        answered_here = self._answered_here.get(confirm_id)
        if answered_here is not None:
            answered_here.set()
        return Answered.TAKEN

    async def _until_answered(
        self, confirm_id: str, answered_here: asyncio.Event, timeout_s: float
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (left := deadline - loop.time()) > 0:
            if answered_here.is_set() or await self._store.answer_of(confirm_id) is not None:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self._poll_s, left)):
                    await answered_here.wait()

    async def _closed(self, confirm_id: str) -> bool | None:
        """Remove the question; the answer it had (a press just before the timeout counts)."""
        try:
            return await self._store.remove(confirm_id)
        except StorageError:
            # Its row stays until it is long expired (ConfirmationStore.ask forgets it then).
            log.warning("could not close confirmation %s; the call is not run", confirm_id)
            return None
