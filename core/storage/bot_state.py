"""Small named facts every process of the bot shares (see BotStateRow)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.engine import Database
from core.storage.retry import Store, retried
from core.storage.schema import BotStateRow, utcnow


class BotStateStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        insert = dialect.insert(BotStateRow)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[BotStateRow.name],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )

    @retried
    async def get(self, name: str) -> str | None:
        query = select(BotStateRow.value).where(BotStateRow.name == name)
        return await self.database.read(lambda c: c.execute(query).scalar())

    @retried
    async def put(self, name: str, value: str) -> None:
        values = {"name": name, "value": value, "updated_at": utcnow()}
        await self.database.run(lambda c: c.execute(self._upsert, values))
