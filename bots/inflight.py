"""Replies in flight: the tasks answering messages now, so that a stop lets them finish.

Every adapter needs the same thing at shutdown: stop taking new messages, give the replies
already running a bounded time to finish, and cancel what is still running after that (the
core leaves storage consistent on cancellation).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)


class RepliesInFlight:
    """The tasks running a reply; `accepting` turns False once the adapter is stopping."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.accepting = True

    def __len__(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    @contextmanager
    def tracked(self) -> Iterator[None]:
        """Count the current task as a reply in flight while the block runs."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def wait(self, within_s: float) -> set[asyncio.Task[Any]]:
        """Wait (up to `within_s`) for the replies in flight and any they start; returns those
        still running."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while True:
            await asyncio.sleep(0)  # let events dispatched just now start their tasks
            pending = {task for task in self._tasks if not task.done()}
            remaining = deadline - loop.time()
            if not pending or remaining <= 0:
                return pending
            await asyncio.wait(pending, timeout=remaining)

    def cancel(self) -> int:
        """Stop accepting and cancel every reply still running; how many were cancelled."""
        self.accepting = False
        running = [task for task in self._tasks if not task.done()]
        for task in running:
            task.cancel()
        return len(running)

    async def drain(self, within_s: float) -> int:
        """Stop accepting, let the replies in flight finish within `within_s`, then cancel the
        rest; how many were cancelled."""
        self.accepting = False
        still_running = await self.wait(within_s)
        for task in still_running:
            log.warning("reply still running after %.0f s; cancelling it", within_s)
            task.cancel()
        return len(still_running)
