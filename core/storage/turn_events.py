"""Counting refused and failed turns per UTC day, platform and kind: one upsert per event, so
that every process of the bot adds to the same row. Successful turns are not counted here
(their usage rows are)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.engine import Database
from core.storage.retry import Store
from core.storage.schema import TurnEventRow


class TurnEventStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        insert = dialect.insert(TurnEventRow).values(
            day=bindparam("day"), platform=bindparam("platform"), kind=bindparam("kind"), count=1
        )
        self._add = insert.on_conflict_do_update(
            index_elements=[TurnEventRow.day, TurnEventRow.platform, TurnEventRow.kind],
            set_={"count": TurnEventRow.count + 1},
        )

    async def add(self, day: date, platform: str, kind: str) -> None:
        """One more `kind` on `day`. Not retried: a turn must not wait for a count."""
        values = {"day": day, "platform": platform[:16], "kind": kind[:64]}
        await self.database.run(lambda c: c.execute(self._add, values))
