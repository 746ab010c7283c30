"""What the processes of one deployment share, built once per process by the bootstrap when
the database is PostgreSQL (SQLite is one process: none of this is needed there)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from core.boundary import process_name
from core.cluster.inbox import Handler, Inbox
from core.cluster.locks import SessionLocks
from core.storage.bot_state import BotStateStore
from core.storage.engine import AsyncServer
from core.storage.inbox import InboxStore

log = logging.getLogger("core.cluster")

STANDBY_POLL_S = 5.0


@dataclass
class Cluster:
    locks: SessionLocks
    inbox_store: InboxStore
    state: BotStateStore
    sweep_s: float = 2.0
    standby_s: float = STANDBY_POLL_S  # how often a process standing by looks again
    process: str = field(default_factory=process_name)

    @classmethod
    def open(cls, database: AsyncServer, retry_s: float, sweep_s: float) -> Cluster:
        return cls(
            SessionLocks(database.engine),
            InboxStore(database, retry_s),
            BotStateStore(database, retry_s),
            sweep_s,
        )

    def inbox(self, platform: str, handle: Handler, concurrency: int) -> Inbox:
        return Inbox(
            self.inbox_store,
            self.locks,
            platform,
            handle,
            concurrency=concurrency,
            sweep_s=self.sweep_s,
        )

    async def take_role(self, role: str, stop: asyncio.Event) -> bool:
        """Hold the lock of a role only one process may have (Telegram's long polling); while
        another process holds it, say so once and stand by. False if `stop` came first."""
        said = False
        while not stop.is_set():
            if await self.locks.try_lock(f"role:{role}"):
                if said:
                    log.info("%s: the other process is gone; taking over as %s", self.process, role)
                return True
            if not said:
                log.warning(
                    "%s: another process is already the %s; standing by until it stops",
                    self.process,
                    role,
                )
                said = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.standby_s)
        return False

    async def release_role(self, role: str) -> None:
        await self.locks.unlock(f"role:{role}")

    async def try_lock(self, name: str) -> bool:
        return await self.locks.try_lock(name)

    async def unlock(self, name: str) -> None:
        await self.locks.unlock(name)

    async def shared_value(self, name: str) -> str | None:
        return await self.state.get(name)

    async def set_shared_value(self, name: str, value: str) -> None:
        await self.state.put(name, value)

    async def close(self) -> None:
        await self.locks.close()
