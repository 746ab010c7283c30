"""The tools a chat may use: every source's, with the chat's own switches (`/tools on|off`)
applied over the defaults (a tool acting outside the bot is off in groups until an admin turns
it on), and the definitions sent to the model."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from core.boundary import IncomingMessage
from core.model.params import ChatParams
from core.tokens import count_tools
from core.tools.base import Tool, ToolCallContext, ToolSource

log = logging.getLogger("core.tools")


@dataclass(frozen=True, slots=True)
class ToolState:
    """One tool as /tools shows it."""

    tool: Tool
    on: bool
    switched: bool  # the chat set it (else its default)


class ToolBox:
    """Combines the ToolSources given at start; asked at every turn, so a source that connects
    later offers its tools from then on."""

    def __init__(self, sources: Sequence[ToolSource] = (), enabled: bool = True) -> None:
        self._sources = tuple(sources)
        self.enabled = enabled
        self._told_duplicates: set[str] = set()

    def states(
        self,
        context: ToolCallContext,
        switches: Mapping[str, bool],
        turn_tools: Sequence[Tool] = (),
    ) -> list[ToolState]:
        """Every tool this chat may use, with whether it is on here. `turn_tools` are built-in
        tools bound to the turn (drawing needs the chat's settings); they come first."""
        states: list[ToolState] = []
        seen: set[str] = set()
        offered = [*turn_tools]
        for source in self._sources:
            if source.allowed_in(context):
                offered.extend(source.tools())
        for tool in offered:
            spec = tool.spec
            if spec.name in seen:
                if spec.name not in self._told_duplicates:
                    self._told_duplicates.add(spec.name)
                    log.warning("two tools are named %s: the first one is offered", spec.name)
                continue
            seen.add(spec.name)
            default = context.is_private or not spec.acts_outside
            switched = spec.name in switches
            states.append(ToolState(tool, switches.get(spec.name, default), switched))
        return states

    def active(
        self,
        context: ToolCallContext,
        switches: Mapping[str, bool],
        turn_tools: Sequence[Tool] = (),
    ) -> dict[str, Tool]:
        """The tools on in this chat now, by name; none when the owner turned tools off."""
        if not self.enabled:
            return {}
        return {
            state.tool.spec.name: state.tool
            for state in self.states(context, switches, turn_tools)
            if state.on
        }


def call_context(
    message: IncomingMessage, is_owner: bool, params: ChatParams, now: datetime
) -> ToolCallContext:
    """What a tool may know of a turn (or of /tools' chat)."""
    timezone = params.timezone or "UTC"  # /set timezone
    return ToolCallContext(
        key=message.key,
        user_id=message.author.user_id,
        is_private=message.is_private,
        is_owner=is_owner,
        timezone=timezone,
        now=now,
        language=message.author.language,
        space_id=message.space_id or message.key.chat_id,
    )


def switches(params: ChatParams) -> dict[str, bool]:
    """The chat's /tools on|off choices, by tool name."""
    return dict(params.tools)


@dataclass(frozen=True, slots=True)
class Definitions:
    """Tools as the API's `tools` parameter, and the prompt tokens they take."""

    tools: tuple[Mapping[str, Any], ...]
    tokens: int

    def offered(self) -> tuple[tuple[Mapping[str, Any], ...], int]:
        return self.tools, self.tokens


def definitions(tools: Mapping[str, Tool], encoding: str) -> Definitions:
    if not tools:
        return Definitions((), 0)
    listed = tuple(
        {
            "type": "function",
            "function": {
                "name": tool.spec.name,
                "description": tool.spec.description,
                "parameters": dict(tool.spec.parameters),
            },
        }
        for tool in tools.values()
    )
    compact = json.dumps(listed, separators=(",", ":"), ensure_ascii=False)
    return Definitions(listed, _tokens(compact, encoding))


@lru_cache(maxsize=256)
def _tokens(compact: str, encoding: str) -> int:
    # The same few definitions go out on every turn: counted once.
    return count_tools(compact, encoding)
