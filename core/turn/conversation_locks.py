"""One turn at a time per conversation, with a bounded backlog waiting behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # the turn running plus the messages waiting
    refusal_said: bool = False  # the flood notice was given since the conversation got busy


class ConversationQueue:
    """Serializes work per key; different keys never wait for each other.

    At most `backlog` messages wait behind the one running; `enter` refuses more at once, so a
    flooded conversation holds bounded memory, and its waiting messages are told to adapters
    (`Waiting`) so that they hold none of an adapter's concurrent-update slots. Entries are
    dropped when their last user leaves, so the table holds only conversations with a turn in
    flight, however many chats the bot has seen.
    """

    def __init__(self, backlog: int) -> None:
        self.backlog = backlog
        self._entries: dict[Hashable, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def waiting(self, key: Hashable) -> int:
        """Messages of `key` running or waiting now."""
        entry = self._entries.get(key)
        return entry.users if entry is not None else 0

    def enter(self, key: Hashable) -> Place | None:
        """A place in `key`'s line (waited for with `async with`), or None when it is full."""
        entry = self._entries.setdefault(key, _Entry())
        if entry.users > self.backlog:
            return None
        entry.users += 1
        return Place(self, key, entry)

    def first_refusal(self, key: Hashable) -> bool:
        """True once per flood: the first refused message is told, the rest stay quiet until the
        conversation has gone idle."""
        entry = self._entries.get(key)
        if entry is None or entry.refusal_said:
            return False
        entry.refusal_said = True
        return True

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for `key` whatever its backlog: the bot's own changes, never a user's flood."""
        entry = self._entries.setdefault(key, _Entry())
        entry.users += 1
        async with Place(self, key, entry):
            yield

    def _leave(self, key: Hashable, entry: _Entry) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._entries[key]


class Place:
    """One message's place in its conversation's line: `async with` waits for its turn and
    leaves when done; `leave` gives the place up unused (the message was refused meanwhile)."""

    def __init__(self, queue: ConversationQueue, key: Hashable, entry: _Entry) -> None:
        self._queue = queue
        self._key = key
        self._entry = entry
        self._left = False

    @property
    def must_wait(self) -> bool:
        """Another message of the conversation runs or waits ahead of this one."""
        return not self._left and self._entry.users > 1

    def leave(self) -> None:
        if not self._left:
            self._left = True
            self._queue._leave(self._key, self._entry)

    async def __aenter__(self) -> None:
        try:
            await self._entry.lock.acquire()
        except BaseException:
            self.leave()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._entry.lock.release()
        self.leave()
