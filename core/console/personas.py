"""The Personas page's port: the catalog, every chat's saved personas and the owner's global
list; create, edit and copy, checked as /newpersona and /set check them.

The global list is stored like any chat's saved personas, in a space no platform has
(`GLOBAL_PLATFORM`:`GLOBAL_SPACE_ID`, i.e. "*:*"); /persona in every chat finds a global
persona after the chat's own of that name (core/personas.py). The catalog file is never
written: a built-in persona is copied under a new name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from core.boundary import ConversationKey
from core.console.playground import PLAYGROUND_PARAMS, Playground
from core.model.params import InvalidParam
from core.personas import (
    Persona,
    PersonaBook,
    Refusal,
    describe_prompt,
    from_row,
    is_global,
)
from core.storage.custom_personas import GLOBAL_PLATFORM, GLOBAL_SPACE_ID, CustomPersonaStore
from core.storage.records import CustomPersona

LISTED = 2000  # saved personas shown on the page, all spaces together
SPACE_CHARS = 64  # the column's width
CREATED_BY = "console"  # the owner, on the web console (no platform user: /forget keeps them)
DESCRIPTION_CHARS = 200


@dataclass(frozen=True, slots=True, order=True)
class Space:
    """Where saved personas live: a chat (a Discord server) on a platform, or the global list."""

    platform: str
    space_id: str

    @property
    def is_global(self) -> bool:
        return is_global(self.platform, self.space_id)

    @property
    def label(self) -> str:
        return "global" if self.is_global else f"{self.platform}:{self.space_id}"

    @classmethod
    def parse(cls, text: str) -> Space:
        """ "global", or PLATFORM:ID as `label` writes it; InvalidParam otherwise."""
        text = text.strip()
        if text.lower() == "global":
            return GLOBAL
        platform, sep, space_id = text.partition(":")
        if not sep or not platform.isalnum() or not space_id or len(space_id) > SPACE_CHARS:
            raise InvalidParam("console.bad_space", space=text[:40])
        return cls(platform.lower(), space_id)


GLOBAL = Space(GLOBAL_PLATFORM, GLOBAL_SPACE_ID)


@dataclass(frozen=True, slots=True)
class SavedPersona:
    space: Space
    persona: Persona


@dataclass(frozen=True, slots=True)
class PersonaDraft:
    """What the page's form holds: the parameters as /set takes them."""

    name: str
    system_prompt: str
    description: str = ""
    model: str = ""  # "" for none: a chat using it keeps its own model
    params: Mapping[str, str] | None = None


class ConsolePersonas:
    def __init__(self, book: PersonaBook, store: CustomPersonaStore, playground: Playground):
        self._book = book
        self._store = store
        self._playground = playground  # checks a model and its parameters as /set does

    def catalog(self) -> list[Persona]:
        return self._book.builtin()

    async def saved(self) -> list[SavedPersona]:
        """Every space's saved personas, the global list first."""
        rows = await self._store.every_custom_persona(LISTED)
        saved = [SavedPersona(Space(row.platform, row.space_id), from_row(row)) for row in rows]
        return sorted(saved, key=lambda s: (not s.space.is_global, s.space, s.persona.name))

    async def spaces(self, chats: Iterable[ConversationKey]) -> list[Space]:
        """Where a persona may go: the global list, the spaces that saved some, and the chats
        whose space is the chat itself (a Discord server's id is not stored with its channels:
        a server shows once it saved one, or is typed in as discord:ID)."""
        rows = await self._store.every_custom_persona(LISTED)
        found = {Space(row.platform, row.space_id) for row in rows}
        found |= {Space(key.platform, key.chat_id) for key in chats if key.platform != "discord"}
        found.discard(GLOBAL)
        return [GLOBAL, *sorted(found)]

    async def find(self, space: Space, name: str) -> Persona | None:
        """A saved persona of that space (not the catalog's, not another space's)."""
        row = await self._store.custom_persona(space.platform, space.space_id, name)
        return None if row is None else from_row(row)

    async def create(self, space: Space, draft: PersonaDraft) -> None:
        """Save a new persona there; InvalidParam saying why not."""
        row = await self._checked(space, draft)
        _raise(self._book.save_refusal(await self._book.save(row), row.name))

    async def edit(self, space: Space, draft: PersonaDraft) -> None:
        """Rewrite a saved persona (its name stays); chats using it get it at their next turn.
        Settings the form does not hold (a chat's show_reasoning, say) stay as they were."""
        existing = await self.find(space, draft.name.strip().lower())
        if existing is None:
            raise InvalidParam("console.persona_unknown", name=draft.name[:40])
        row = await self._checked(space, draft)
        kept = {k: v for k, v in existing.params.items() if k not in PLAYGROUND_PARAMS}
        if not await self._store.update_custom_persona(replace(row, params=kept | row.params)):
            raise InvalidParam("console.persona_unknown", name=row.name)

    async def copy(self, source: Space | None, name: str, target: Space, new_name: str) -> None:
        """Copy a saved persona (`source` None: a built-in one) into another space, under
        `new_name` (the same name when empty), with its model and parameters as they are."""
        persona = self._book.catalog.get(name) if source is None else await self.find(source, name)
        if persona is None:
            raise InvalidParam("console.persona_unknown", name=name[:40])
        copied = new_name.strip().lower() or persona.name
        _raise(self._book.refusal(copied, persona.system_prompt))
        row = CustomPersona(
            platform=target.platform,
            space_id=target.space_id,
            name=copied,
            description=persona.description,
            system_prompt=persona.system_prompt,
            model=persona.model,
            params=dict(persona.params),
            created_by=CREATED_BY,
        )
        _raise(self._book.save_refusal(await self._book.save(row), copied))

    async def delete(self, space: Space, name: str) -> None:
        if not await self._store.delete_custom_persona(space.platform, space.space_id, name):
            raise InvalidParam("console.persona_unknown", name=name[:40])

    async def _checked(self, space: Space, draft: PersonaDraft) -> CustomPersona:
        name, prompt = draft.name.strip().lower(), draft.system_prompt.strip()
        if not prompt:
            raise InvalidParam("console.persona_missing_prompt")
        _raise(self._book.refusal(name, prompt))
        params = dict(draft.params or {})
        model = draft.model.strip()
        # Without a model of its own, the parameters are checked against the default model,
        # as /set checks them in a chat that picked none.
        preset = await self._playground.preset(
            model or self._playground.models.default_model, params
        )
        description = draft.description.strip() or describe_prompt(prompt)
        return CustomPersona(
            platform=space.platform,
            space_id=space.space_id,
            name=name,
            description=description[:DESCRIPTION_CHARS],
            system_prompt=prompt,
            model=model or None,
            params=preset.params.to_json(),
            created_by=CREATED_BY,
        )


def _raise(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise InvalidParam(refusal.key, **refusal.values)


def as_set_value(value: object) -> str:
    """A stored parameter as /set takes it (stop: "a|b"; logit_bias: "1:2,3:4"), for a form."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return "|".join(str(item).replace("\n", "\\n") for item in value)
    if isinstance(value, dict):
        return ",".join(f"{token}:{bias}" for token, bias in value.items())
    return str(value)
