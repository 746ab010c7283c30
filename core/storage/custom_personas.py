"""The personas a space (a Discord server, a chat) saved with /newpersona."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.engine import Database
from core.storage.records import CustomPersona
from core.storage.retry import Store, retried
from core.storage.schema import CustomPersonaRow

# CustomPersona's fields, in order.
_PERSONA_COLUMNS = (
    CustomPersonaRow.platform,
    CustomPersonaRow.space_id,
    CustomPersonaRow.name,
    CustomPersonaRow.description,
    CustomPersonaRow.system_prompt,
    CustomPersonaRow.model,
    CustomPersonaRow.params,
    CustomPersonaRow.created_by,
)


class CustomPersonaStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        self._insert_persona = (
            dialect.insert(CustomPersonaRow).on_conflict_do_nothing().returning(CustomPersonaRow.id)
        )

    @retried
    async def custom_personas(self, platform: str, space_id: str) -> list[CustomPersona]:
        query = (
            select(*_PERSONA_COLUMNS)
            .where(CustomPersonaRow.platform == platform, CustomPersonaRow.space_id == space_id)
            .order_by(CustomPersonaRow.name)
        )
        return await self.database.run(lambda c: [CustomPersona(*row) for row in c.execute(query)])

    @retried
    async def add_custom_persona(self, persona: CustomPersona) -> bool:
        """False when a persona of that name already exists in that space."""
        values = {column.key: getattr(persona, column.key) for column in _PERSONA_COLUMNS}
        stored = await self.database.run(lambda c: c.execute(self._insert_persona, values).scalar())
        return stored is not None

    @retried
    async def delete_custom_persona(self, platform: str, space_id: str, name: str) -> bool:
        statement = delete(CustomPersonaRow).where(
            CustomPersonaRow.platform == platform,
            CustomPersonaRow.space_id == space_id,
            CustomPersonaRow.name == name,
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount > 0)
