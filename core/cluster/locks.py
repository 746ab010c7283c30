"""PostgreSQL advisory locks held by one database session of this process.

A session-level advisory lock belongs to a connection: when the process dies (even by kill -9)
the server closes its connection and every lock it held is free at once, with no lease to
expire. One dedicated connection holds all of this process's locks, so a thousand
conversations in progress cost one connection, not a thousand (the pool stays for the turns'
short transactions).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.storage.lock_keys import lock_key

log = logging.getLogger("core.cluster")

_TRY = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")


class SessionLocks:
    """Named advisory locks on one session; `try_lock` never waits for another process."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._one_at_a_time = asyncio.Lock()  # a connection runs one statement at a time
        self.lost = 0  # how many times the session was lost (its locks with it)

    async def try_lock(self, name: str) -> bool:
        """Take `name` if no session holds it; False when another one (or this one) does."""
        return bool(await self._scalar(_TRY, name))

    async def unlock(self, name: str) -> None:
        await self._scalar(_UNLOCK, name)

    async def _scalar(self, statement: object, name: str) -> object:
        async with self._one_at_a_time:
            if self._connection is None or self._connection.closed:
                self._connection = await self._engine.connect()
                # Autocommit: the session must not sit idle in a transaction for hours.
                await self._connection.execution_options(isolation_level="AUTOCOMMIT")
            try:
                result = await self._connection.execute(statement, {"key": lock_key(name)})  # type: ignore[call-overload]
                return result.scalar()
            except Exception:
                # A lost session lost its locks too: the next call opens a new one.
                self.lost += 1
                log.warning("the advisory-lock session failed; its locks are released")
                await self._drop()
                raise

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except Exception:  # already gone
                log.debug("closing the lost lock session failed", exc_info=True)

    async def close(self) -> None:
        """Closing the session releases every lock it holds."""
        async with self._one_at_a_time:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()
