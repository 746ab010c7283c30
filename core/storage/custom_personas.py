"""The personas a space (a Discord server, a chat) saved with /newpersona: at most a set number
per space, found by name with one indexed query."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.engine import Database
from core.storage.records import CustomPersona
from core.storage.retry import Store, retried
from core.storage.schema import CustomPersonaRow, utcnow

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


# The global list the owner keeps from the web console: a space no platform has ("*" is no
# platform's name, and no chat's id), which /persona in every chat searches after the chat's
# own. Retention and /forget leave it alone: it belongs to no chat and no user.
GLOBAL_PLATFORM = "*"
GLOBAL_SPACE_ID = "*"


class Saved(enum.Enum):
    SAVED = "saved"
    EXISTS = "exists"  # a persona of that name is already in the space
    FULL = "full"  # the space has its maximum of personas


class CustomPersonaStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        self._postgres = database.dialect == "postgresql"
        dialect = postgresql if self._postgres else sqlite
        self._insert_persona = (
            dialect.insert(CustomPersonaRow).on_conflict_do_nothing().returning(CustomPersonaRow.id)
        )

    @retried
    async def custom_personas(
        self, platform: str, space_id: str, limit: int
    ) -> list[CustomPersona]:
        """The space's first `limit` personas by name."""
        query = (
            select(*_PERSONA_COLUMNS)
            .where(_in_space(platform, space_id))
            .order_by(CustomPersonaRow.name)
            .limit(limit)
        )
        return await self.database.run(lambda c: [CustomPersona(*row) for row in c.execute(query)])

    @retried
    async def count_custom_personas(self, platform: str, space_id: str) -> int:
        query = select(func.count()).where(_in_space(platform, space_id))
        return await self.database.run(lambda c: int(c.execute(query).scalar_one()))

    @retried
    async def custom_persona(self, platform: str, space_id: str, name: str) -> CustomPersona | None:
        """One persona by name (the unique constraint's index answers it)."""
        query = select(*_PERSONA_COLUMNS).where(
            _in_space(platform, space_id), CustomPersonaRow.name == name
        )
        row = await self.database.run(lambda c: c.execute(query).first())
        return None if row is None else CustomPersona(*row)

    @retried
    async def every_custom_persona(self, limit: int) -> list[CustomPersona]:
        """Every space's personas (the owner's view), by platform, space and name."""
        query = (
            select(*_PERSONA_COLUMNS)
            .order_by(CustomPersonaRow.platform, CustomPersonaRow.space_id, CustomPersonaRow.name)
            .limit(limit)
        )
        return await self.database.run(lambda c: [CustomPersona(*row) for row in c.execute(query)])

    @retried
    async def update_custom_persona(self, persona: CustomPersona) -> bool:
        """Replace the description, prompt, model and parameters of the persona of that space
        and name (who created it stays); False when there is none."""
        statement = (
            update(CustomPersonaRow)
            .where(
                _in_space(persona.platform, persona.space_id),
                CustomPersonaRow.name == persona.name,
            )
            .values(
                description=persona.description,
                system_prompt=persona.system_prompt,
                model=persona.model,
                params=persona.params,
            )
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount > 0)

    @retried
    async def add_custom_persona(self, persona: CustomPersona, limit: int) -> Saved:
        """Save a persona unless its name is taken or the space already has `limit` of them."""
        values = {column.key: getattr(persona, column.key) for column in _PERSONA_COLUMNS}
        in_space = _in_space(persona.platform, persona.space_id)
        count = select(func.count()).where(in_space)
        taken = select(CustomPersonaRow.id).where(in_space, CustomPersonaRow.name == persona.name)

        def work(connection: Connection) -> Saved:
            if self._postgres:
                # Two creators in one space at once must not both pass the count (SQLite has
                # one writer at a time already).
                space = f"persona:{persona.platform}:{persona.space_id}"
                connection.execute(select(func.pg_advisory_xact_lock(func.hashtext(space))))
            if connection.execute(taken).first() is not None:
                return Saved.EXISTS
            if connection.execute(count).scalar_one() >= limit:
                return Saved.FULL
            stored = connection.execute(self._insert_persona, values).scalar()
            return Saved.EXISTS if stored is None else Saved.SAVED

        return await self.database.run(work)

    @retried
    async def delete_custom_persona(self, platform: str, space_id: str, name: str) -> bool:
        statement = delete(CustomPersonaRow).where(
            _in_space(platform, space_id), CustomPersonaRow.name == name
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount > 0)

    @retried
    async def mark_space_seen(self, platform: str, space_id: str, before: datetime) -> None:
        """Note a turn in the space (retention keeps the personas of spaces still in use); only
        rows last marked before `before` are written."""
        statement = (
            update(CustomPersonaRow)
            .where(_in_space(platform, space_id), CustomPersonaRow.space_seen_at < before)
            .values(space_seen_at=utcnow())
        )
        await self.database.run(lambda c: c.execute(statement))


def _in_space(platform: str, space_id: str) -> ColumnElement[bool]:
    return (CustomPersonaRow.platform == platform) & (CustomPersonaRow.space_id == space_id)
