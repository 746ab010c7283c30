"""Received updates, stored before they are acknowledged and marked done once handled (see
core/cluster/inbox.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from core.boundary import StoredUpdate as Received
from core.storage.engine import Database
from core.storage.lock_keys import lock_key
from core.storage.retry import Store, retried
from core.storage.schema import InboundUpdateRow, utcnow

# An album's updates come together; more than this many pending updates are read in one go
# only to find where the album ends.
STEP_ROWS = 16


# Advisory locks held now, by their 64-bit key: pg_locks shows a bigint key's high half as
# classid and its low half as objid, with objsubid 1.
_LOCKS = table(
    "pg_locks",
    column("locktype"),
    column("classid"),
    column("objid"),
    column("objsubid"),
    column("granted"),
)
_HELD: Select[Any] = (
    select(literal_column("1"))
    .select_from(_LOCKS)
    .where(_LOCKS.c.locktype == "advisory", _LOCKS.c.objsubid == 1, _LOCKS.c.granted.is_(True))
)
_HELD_KEY = literal_column(
    "((pg_locks.classid::text::bigint << 32) + pg_locks.objid::text::bigint)", BigInteger
)


class InboxStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        self._insert = (
            dialect.insert(InboundUpdateRow)
            .on_conflict_do_nothing()
            .returning(InboundUpdateRow.update_id)
        )

    @retried
    async def add(
        self, platform: str, update_id: int, conversation: str, album: str | None, payload: str
    ) -> bool:
        """Store a received update (committed when this returns); False when it was stored
        already (a redelivery)."""
        values = {
            "platform": platform,
            "update_id": update_id,
            "conversation": conversation,
            "lock_key": lock_key(conversation),
            "album": album,
            "payload": payload,
            "received_at": utcnow(),
        }
        stored = await self.database.run(lambda c: c.execute(self._insert, values).scalar())
        return stored is not None

    async def next_step(self, platform: str, conversation: str) -> list[Received]:
        """The conversation's oldest pending update, with the pending ones after it of the same
        album (one turn); [] when nothing is pending."""
        return await self.done_then_next(platform, conversation, [])

    @retried
    async def done_then_next(
        self, platform: str, conversation: str, done: list[int]
    ) -> list[Received]:
        """Mark the updates `done` (one transaction with reading the next step: a turn's
        inbox costs one round trip)."""
        finished = (
            update(InboundUpdateRow)
            .where(InboundUpdateRow.platform == platform, InboundUpdateRow.update_id.in_(done))
            .values(done_at=utcnow())
        )
        query = (
            select(InboundUpdateRow.update_id, InboundUpdateRow.album, InboundUpdateRow.payload)
            .where(
                InboundUpdateRow.conversation == conversation,
                InboundUpdateRow.platform == platform,
                InboundUpdateRow.done_at.is_(None),
            )
            .order_by(InboundUpdateRow.update_id)
            .limit(STEP_ROWS)
        )

        def work(connection: Connection) -> list[Received]:
            if done:
                connection.execute(finished)
            rows = connection.execute(query).all()
            step = [Received(*row) for row in rows[:1]]
            if step and step[0].album is not None:
                for row in rows[1:]:
                    if row.album != step[0].album:
                        break
                    step.append(Received(*row))
            return step

        return await self.database.run(work)

    @retried
    async def waiting_conversations(
        self, platform: str, received_before: datetime, limit: int
    ) -> list[str]:
        """Conversations with an update pending since before `received_before` whose lock no
        process holds: the process that took them died, or every process was busy. (Asking
        pg_locks spares a lock round trip for each conversation another process is working
        through, which at every sweep of every process cost more than the turns themselves.)"""
        query = (
            select(InboundUpdateRow.conversation)
            .where(
                InboundUpdateRow.platform == platform,
                InboundUpdateRow.done_at.is_(None),
                InboundUpdateRow.received_at < received_before,
                ~exists(_HELD.where(InboundUpdateRow.lock_key == _HELD_KEY)),
            )
            .group_by(InboundUpdateRow.conversation)
            .order_by(func.min(InboundUpdateRow.update_id))  # oldest waiting first
            .limit(limit)
        )
        return list(await self.database.read(lambda c: c.execute(query).scalars().all()))

    @retried
    async def prune(self, done_for: timedelta) -> int:
        """Forget updates done longer ago than `done_for` (a redelivery after that is caught by
        the messages' own delivery ids)."""
        before = utcnow() - done_for

        def work(connection: Connection) -> int:
            statement = delete(InboundUpdateRow).where(InboundUpdateRow.done_at < before)
            return connection.execute(statement).rowcount

        return await self.database.run_long(work)
