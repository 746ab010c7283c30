"""Personas: the built-in catalog (`config/personas.toml`) and the ones a space saved itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from config.files import read_toml
from core.storage.custom_personas import (
    GLOBAL_PLATFORM,
    GLOBAL_SPACE_ID,
    CustomPersonaStore,
    Saved,
)
from core.storage.records import CustomPersona

MAX_PROMPT_CHARS = 8000  # default of MAX_PERSONA_PROMPT_CHARS
MAX_PER_SPACE = 50  # default of MAX_PERSONAS_PER_SPACE
SEEN_SPACES_KEPT = 10_000  # spaces remembered as marked today, before the memory starts over
DESCRIPTION_CHARS = 80
PERSONA_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
)
QUOTED_NAME_CHARS = 40  # a bad name quoted back, cut as commands cut what they quote
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
    shared: bool = False  # saved in the owner's global list, for every chat

    def describe(self, language: str) -> str:
        return self.descriptions.get(language) or self.description


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a persona cannot be saved: the key and values of the text that says so."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


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
    """Built-in personas first, then the ones a space (Discord server, chat) created: at most
    `max_per_space` of them, each prompt at most `max_prompt_chars` long."""

    def __init__(
        self,
        catalog: PersonaCatalog,
        store: CustomPersonaStore,
        max_per_space: int = MAX_PER_SPACE,
        max_prompt_chars: int = MAX_PROMPT_CHARS,
    ) -> None:
        self.catalog = catalog
        self._store = store
        self.max_per_space = max_per_space
        self.max_prompt_chars = max_prompt_chars
        self._seen_on: date | None = None
        self._seen_today: set[tuple[str, str]] = set()

    def builtin(self) -> list[Persona]:
        return [p for name in self.catalog.names() if (p := self.catalog.get(name))]

    async def all(
        self, platform: str, space_id: str, custom_limit: int | None = None
    ) -> list[Persona]:
        """The built-in ones, then the space's own by name (at most `custom_limit`, else at most
        the cap: a space may hold more from before the cap)."""
        limit = self.max_per_space if custom_limit is None else custom_limit
        custom = await self._store.custom_personas(platform, space_id, limit) if limit > 0 else []
        if not is_global(platform, space_id) and len(custom) < limit:
            # Then the owner's global ones, but for those the space has its own of.
            own = {row.name for row in custom}
            shared = await self._store.custom_personas(
                GLOBAL_PLATFORM, GLOBAL_SPACE_ID, limit - len(custom)
            )
            custom += [row for row in shared if row.name not in own]
        return self.builtin() + [from_row(row) for row in custom]

    async def count_custom(self, platform: str, space_id: str) -> int:
        """The space's own personas and the global ones."""
        count = await self._store.count_custom_personas(platform, space_id)
        if not is_global(platform, space_id):
            count += await self._store.count_custom_personas(GLOBAL_PLATFORM, GLOBAL_SPACE_ID)
        return count

    async def find(self, platform: str, space_id: str, name: str) -> Persona | None:
        """A built-in persona, else the space's own, else the owner's global one."""
        builtin = self.catalog.get(name)
        if builtin is not None:
            return builtin
        if not valid_name(name):
            return None  # no such row can exist: no query
        row = await self._store.custom_persona(platform, space_id, name)
        if row is None and not is_global(platform, space_id):
            row = await self._store.custom_persona(GLOBAL_PLATFORM, GLOBAL_SPACE_ID, name)
        return None if row is None else from_row(row)

    def refusal(self, name: str, prompt: str) -> Refusal | None:
        """Why a persona of that name and prompt cannot be saved (None: it can), for
        /newpersona and the console alike."""
        if not valid_name(name):
            quoted = name if len(name) <= QUOTED_NAME_CHARS else name[: QUOTED_NAME_CHARS - 1] + "…"
            return Refusal("newpersona.bad_name", {"name": quoted})
        if len(prompt) > self.max_prompt_chars:
            return Refusal("newpersona.too_long", {"limit": self.max_prompt_chars})
        if self.catalog.get(name) is not None:
            return Refusal("newpersona.builtin", {"name": name})
        return None

    def save_refusal(self, outcome: Saved, name: str) -> Refusal | None:
        """What a store's answer to saving means for the one saving (None: saved)."""
        if outcome is Saved.EXISTS:
            return Refusal("newpersona.exists", {"name": name})
        if outcome is Saved.FULL:
            return Refusal("newpersona.full", {"limit": self.max_per_space})
        return None

    async def save(self, persona: CustomPersona) -> Saved:
        return await self._store.add_custom_persona(persona, self.max_per_space)

    async def active(self, platform: str, space_id: str, name: str | None) -> Persona:
        """The chat's persona; the default one when unset or deleted since."""
        await self._mark_seen(platform, space_id)
        if name:
            persona = await self.find(platform, space_id, name)
            if persona is not None:
                return persona
        default = self.catalog.get(self.catalog.default)
        assert default is not None  # PersonaCatalog checks its default exists
        return default

    async def _mark_seen(self, platform: str, space_id: str) -> None:
        """Once a day per space and process: retention deletes the personas of spaces unheard
        of for RETENTION_DAYS (deleted or abandoned chats and servers)."""
        now = datetime.now(UTC)
        if self._seen_on != now.date() or len(self._seen_today) >= SEEN_SPACES_KEPT:
            self._seen_on, self._seen_today = now.date(), set()
        if (platform, space_id) in self._seen_today:
            return
        midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
        await self._store.mark_space_seen(platform, space_id, before=midnight)
        self._seen_today.add((platform, space_id))


def is_global(platform: str, space_id: str) -> bool:
    return platform == GLOBAL_PLATFORM and space_id == GLOBAL_SPACE_ID


def valid_name(name: str) -> bool:
    return bool(PERSONA_NAME.match(name))


def describe_prompt(prompt: str) -> str:
    """A one-line description for a persona created from chat: its prompt's first line."""
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    if len(first) <= DESCRIPTION_CHARS:
        return first
    return first[: DESCRIPTION_CHARS - 1].rstrip() + "…"


def from_row(row: CustomPersona) -> Persona:
    return Persona(
        name=row.name,
        system_prompt=row.system_prompt,
        description=row.description,
        model=row.model,
        params=dict(row.params or {}),
        builtin=False,
        shared=is_global(row.platform, row.space_id),
    )
