"""ConsolePort implemented by the core: what the owner's web console shows and does, through
the chat service (its planner and command handlers) and read-only storage queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.boundary import CommandReply, ConversationKey
from core.console.usage_report import usage_report
from core.console_port import (
    ConversationSummary,
    ModelEntry,
    Transcript,
    TranscriptLine,
    UsageReport,
)
from core.model.catalog import ModelCatalog
from core.personas import PersonaBook
from core.policy.limits import LimitConfig
from core.storage.console_queries import ConsoleQueries, ConversationFacts, MessageLine
from core.turn.service import ChatService

CONSOLE_COMMANDS = frozenset({"reset", "persona", "model"})
LINES_SHOWN = 500  # a transcript's newest messages; older ones are said to exist
LISTED = 2000  # conversations searched (the most recently active)


class ConsoleBackend:
    """Implements `core.console_port.ConsolePort`."""

    def __init__(
        self,
        service: ChatService,
        queries: ConsoleQueries,
        models: ModelCatalog,
        personas: PersonaBook,
        limits: LimitConfig,
        *,
        transcripts: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._service = service
        self._queries = queries
        self._models = models
        self._personas = personas
        self._limits = limits
        self._transcripts = transcripts
        self._now = now

    async def usage_report(self, days: int = 30) -> UsageReport:
        return await usage_report(self._queries, self._limits, days, self._now)

    async def conversations(self, search: str = "", limit: int = 200) -> list[ConversationSummary]:
        needle = search.strip().lower()
        found: list[ConversationSummary] = []
        for facts in await self._queries.conversations(LISTED):
            summary = await self._summary(facts)
            haystack = f"{summary.key} {summary.persona} {summary.model}".lower()
            if needle and needle not in haystack:
                continue
            found.append(summary)
            if len(found) >= limit:
                break
        return found

    async def transcript(self, conversation_id: int) -> Transcript | None:
        facts = await self._queries.conversation(conversation_id)
        if facts is None:
            return None
        lines = await self._queries.newest_lines(conversation_id, LINES_SHOWN)
        plan, window = await self._service.owner.next_window(
            facts.key, is_private=_looks_private(facts.key, lines)
        )
        sent = {message.id for message in window.messages}
        shown = tuple(
            TranscriptLine(
                id=line.id,
                role=line.role,
                author=line.author_name or "",
                text=line.content,
                tokens=line.tokens,
                encoding=line.encoding,
                created_at=line.created_at,
                in_window=line.id in sent,
            )
            for line in lines
        )
        older = facts.messages > len(lines)
        return Transcript(
            summary=await self._summary(facts),
            system_prompt=plan.system_prompt if self._transcripts else "",
            system_tokens=plan.system_tokens,
            budget=plan.budget,
            window_tokens=window.tokens,
            window_start_id=window.messages[0].id if window.messages else 0,
            lines=shown if self._transcripts else (),
            shown_from=shown[0].id if older and shown else 0,
            hidden=not self._transcripts,
            personas=tuple(await self._service.persona_names(facts.key)),
            models=tuple(self._models.names()),
        )

    async def run_command(
        self, conversation_id: int, command: str, args: str = ""
    ) -> CommandReply | None:
        if command not in CONSOLE_COMMANDS:
            raise ValueError(f"the console does not run /{command}")
        facts = await self._queries.conversation(conversation_id)
        if facts is None:
            return None
        lines = await self._queries.newest_lines(conversation_id, 50)
        return await self._service.owner.command(
            facts.key, command, args, is_private=_looks_private(facts.key, lines)
        )

    def model_catalog(self) -> list[ModelEntry]:
        entries = []
        for name in self._models.names():
            spec = self._models.get(name)
            caps = spec.caps
            flags = [
                flag
                for flag, on in (
                    ("reasoning", caps.reasoning),
                    ("images", caps.images),
                    ("audio input", caps.audio_input),
                    ("tools", caps.tools),
                )
                if on
            ]
            entries.append(
                ModelEntry(
                    name=spec.name,
                    provider=spec.provider,
                    context_window=spec.context_window,
                    max_output_tokens=spec.max_output_tokens,
                    encoding=spec.encoding,
                    input_per_1m=spec.input_per_1m,
                    cached_input_per_1m=spec.cached_input_per_1m,
                    output_per_1m=spec.output_per_1m,
                    capabilities=(*flags, *sorted(caps.params)),
                    estimated_tokens=spec.estimated_tokens,
                )
            )
        return sorted(entries, key=lambda e: (e.provider, e.name))

    async def _summary(self, facts: ConversationFacts) -> ConversationSummary:
        persona_name = facts.persona or self._personas.catalog.default
        persona = self._personas.catalog.get(persona_name)
        if persona is None:  # a saved one (or one deleted since: then the default applies)
            persona = await self._personas.find(facts.key.platform, facts.key.chat_id, persona_name)
            if persona is None:
                persona = self._personas.catalog.get(self._personas.catalog.default)
        persona_model = persona.model if persona is not None else None
        return ConversationSummary(
            id=facts.id,
            key=facts.key,
            title="",
            last_active=facts.last_active,
            messages=facts.messages,
            cost_usd=facts.cost_usd,
            persona=persona.name if persona is not None else persona_name,
            model=self._models.name_for_chat(facts.model, persona_model),
        )


def _looks_private(key: ConversationKey, lines: list[MessageLine]) -> bool:
    """Whether a conversation is a private chat, from what is stored: Telegram's group ids are
    negative, and a group's messages carry their author's name (core/turn/user_input.py)."""
    if key.platform == "telegram" and key.chat_id.startswith("-"):
        return False
    return not any(line.role == "user" and line.author_name for line in lines)
