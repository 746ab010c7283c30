"""Received updates, stored before they are acknowledged and marked done once handled (see
core/cluster/inbox.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.engine import Database
from core.storage.retry import Store, retried
from core.storage.schema import InboundUpdateRow, utcnow

# An album's updates come together; more than this many pending updates are read in one go
# only to find where the album ends.
STEP_ROWS = 16


@dataclass(frozen=True, slots=True)
class Received:
    update_id: int
    album: str | None
    payload: str


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
            "album": album,
            "payload": payload,
            "received_at": utcnow(),
        }
        stored = await self.database.run(lambda c: c.execute(self._insert, values).scalar())
        return stored is not None

    @retried
    async def next_step(self, platform: str, conversation: str) -> list[Received]:
        """The conversation's oldest pending update, with the pending ones after it of the same
        album (one turn); [] when nothing is pending."""
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
        rows = await self.database.read(lambda c: c.execute(query).all())
        step = [Received(*row) for row in rows[:1]]
        if step and step[0].album is not None:
            for row in rows[1:]:
                if row.album != step[0].album:
                    break
                step.append(Received(*row))
        return step

    @retried
    async def mark_done(self, platform: str, update_ids: list[int]) -> None:
        statement = (
            update(InboundUpdateRow)
            .where(
                InboundUpdateRow.platform == platform,
                InboundUpdateRow.update_id.in_(update_ids),
            )
            .values(done_at=utcnow())
        )
        await self.database.run(lambda c: c.execute(statement))

    @retried
    async def waiting_conversations(
        self, platform: str, received_before: datetime, limit: int
    ) -> list[str]:
        """Conversations with an update pending since before `received_before`: a process
        that took them died, or every process was busy."""
        query = (
            select(InboundUpdateRow.conversation)
            .where(
                InboundUpdateRow.platform == platform,
                InboundUpdateRow.done_at.is_(None),
                InboundUpdateRow.received_at < received_before,
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
