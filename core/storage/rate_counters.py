"""Rate-limit allowances in the database, so that every process of the bot counts against one
allowance per user and per chat (issue 15): GCRA, one row and one statement per check."""

from __future__ import annotations

from sqlalchemy import Connection, Float, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.engine import Database
from core.storage.retry import Store, retried
from core.storage.schema import RateCounterRow

_FULL_AT = RateCounterRow.full_at
# Typed: PostgreSQL cannot tell what `$1 + $2` adds up otherwise.
_NOW = bindparam("now", type_=Float)
_INTERVAL = bindparam("interval", type_=Float)
_WINDOW = bindparam("window", type_=Float)


class RateCounterStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        postgres = database.dialect == "postgresql"
        dialect = postgresql if postgres else sqlite
        # SQLite's two-argument max() is PostgreSQL's greatest().
        greatest = func.greatest if postgres else func.max
        later = greatest(_FULL_AT, _NOW) + _INTERVAL
        insert = dialect.insert(RateCounterRow).values(
            key=bindparam("key"),
            full_at=_NOW + _INTERVAL,
            refused_at=0.0,
        )
        # One more event is allowed when the key's allowance stays within a window of being
        # full; the row is then moved on by one interval, atomically, whichever process asks.
        self._take = insert.on_conflict_do_update(
            index_elements=[RateCounterRow.key],
            set_={"full_at": later},
            where=later - _NOW <= _WINDOW,
        ).returning(RateCounterRow.full_at)
        self._full_at = select(_FULL_AT).where(RateCounterRow.key == bindparam("key"))
        self._refused = (
            update(RateCounterRow)
            .where(
                RateCounterRow.key == bindparam("counter"),
                RateCounterRow.refused_at <= _NOW - _WINDOW,
            )
            .values(refused_at=_NOW)
            .returning(RateCounterRow.key)
        )

    @retried
    async def take(self, key: str, now: float, interval: float, window: float) -> float:
        """0.0 when one more event is allowed now (and counts it), else seconds until it is."""
        values = {"key": key, "now": now, "interval": interval, "window": window}

        def work(connection: Connection) -> float:
            if connection.execute(self._take, values).scalar() is not None:
                return 0.0
            full_at = connection.execute(self._full_at, {"key": key}).scalar() or now
            return max(full_at + interval - now - window, 1e-3)

        return await self.database.run(work)

    @retried
    async def first_refusal(self, key: str, now: float, window: float) -> bool:
        """True once per `window` of refusals for `key`, across every process."""
        values = {"counter": key, "now": now, "window": window}
        return await self.database.run(
            lambda c: c.execute(self._refused, values).scalar() is not None
        )

    @retried
    async def sweep(self, now: float, window: float) -> int:
        """Forget keys whose allowance is full again and that were not refused lately."""
        statement = delete(RateCounterRow).where(
            RateCounterRow.full_at < now, RateCounterRow.refused_at < now - window
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount)
