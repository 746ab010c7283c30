"""Personas: the built-in catalog (`config/personas.toml`) and the ones a space saved itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from config.files import read_toml
from core.storage.custom_personas import CustomPersonaStore
from core.storage.records import CustomPersona

MAX_PROMPT_CHARS = 8000
DESCRIPTION_CHARS = 80
PERSONA_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
)
PERSONA_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    system_prompt: str
    description: str = ""
    descriptions: Mapping[str, str] = field(default_factory=dict)  # language -> one line
    model: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    builtin: bool = True

    def describe(self, language: str) -> str:
        return self.descriptions.get(language) or self.description


class PersonaCatalog:
    """The built-in personas; chats add their own ones through storage."""

    def __init__(self, personas: Mapping[str, Persona], default: str) -> None:
        if default not in personas:
            raise ValueError(f"default persona '{default}' is not in the catalog")
        self._personas = dict(personas)
        self.default = default

    @classmethod
    def load(cls, default: str = "") -> PersonaCatalog:
        data = read_toml("personas.toml")
        personas = {}
        for name, entry in data["personas"].items():
            params = {key: entry[key] for key in PERSONA_PARAMS if key in entry}
            personas[name] = Persona(
                name=name,
                system_prompt=entry["system_prompt"].strip(),
                description=entry.get("description", ""),
                descriptions={
                    "en": entry.get("description", ""),
                    "ko": entry.get("description_ko", ""),
                },
                model=entry.get("model"),
                params=params,
            )
        return cls(personas, default or data.get("default", "assistant"))

    def names(self) -> list[str]:
        return list(self._personas)

    def get(self, name: str) -> Persona | None:
        return self._personas.get(name)


class PersonaBook:
    """Built-in personas first, then the ones a space (Discord server, chat) created."""

    def __init__(self, catalog: PersonaCatalog, store: CustomPersonaStore) -> None:
        self.catalog = catalog
        self._store = store

    async def all(self, platform: str, space_id: str) -> list[Persona]:
        custom = await self._store.custom_personas(platform, space_id)
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
