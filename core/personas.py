"""Resolving a chat's persona from the built-in catalog and its space's own personas."""

from __future__ import annotations

from core.model.catalog import PERSONA_NAME, Persona, PersonaCatalog
from core.storage.records import CustomPersona
from core.storage.repository import Repository

MAX_PROMPT_CHARS = 8000
DESCRIPTION_CHARS = 80


class PersonaBook:
    """Built-in personas first, then the ones a space (Discord server, chat) created."""

    def __init__(self, catalog: PersonaCatalog, repository: Repository) -> None:
        self.catalog = catalog
        self._repository = repository

    async def all(self, platform: str, space_id: str) -> list[Persona]:
        custom = await self._repository.custom_personas(platform, space_id)
        builtin = [p for name in self.catalog.names() if (p := self.catalog.get(name))]
        return builtin + [_from_row(row) for row in custom]

    async def find(self, platform: str, space_id: str, name: str) -> Persona | None:
        builtin = self.catalog.get(name)
        if builtin is not None:
            return builtin
        for persona in await self.all(platform, space_id):
            if persona.name == name:
                return persona
        return None

    async def active(self, platform: str, space_id: str, name: str | None) -> Persona:
        """The chat's persona; the default one when unset or deleted since."""
        if name:
            persona = await self.find(platform, space_id, name)
            if persona is not None:
                return persona
        default = self.catalog.get(self.catalog.default)
        assert default is not None  # PersonaCatalog checks its default exists
        return default


def valid_name(name: str) -> bool:
    return bool(PERSONA_NAME.match(name))


def describe_prompt(prompt: str) -> str:
    """A one-line description for a persona created from chat: its prompt's first line."""
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    if len(first) <= DESCRIPTION_CHARS:
        return first
    return first[: DESCRIPTION_CHARS - 1].rstrip() + "…"


def _from_row(row: CustomPersona) -> Persona:
    return Persona(
        name=row.name,
        system_prompt=row.system_prompt,
        description=row.description,
        model=row.model,
        params=dict(row.params or {}),
        builtin=False,
    )
