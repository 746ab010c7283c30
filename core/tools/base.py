"""The contract every tool keeps, whoever wrote it: a built-in tool, an MCP server's tool, the
image generator. The tool loop (core/turn) only sees these types; a tool never sees the turn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.boundary import ConversationKey, ReplyEvent
from core.storage.records import UsageRecord

# What a tool's result may weigh in the tool message; the rest is cut (and the model told so).
DEFAULT_OUTPUT_CHARS = 16_000
DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as offered to the model, plus what the bot needs to decide whether to offer it."""

    name: str  # as the model sees it: ^[a-zA-Z0-9_-]{1,64}$; an MCP tool's is server-qualified
    description: str
    parameters: Mapping[str, object]  # a JSON schema object
    # Reads or changes anything outside the bot (the web, an account, a file system): such a
    # tool is off by default in groups and needs an admin's /tools on NAME there.
    acts_outside: bool = False
    needs_confirmation: bool = False  # the user presses Yes before each call runs
    timeout_s: float = DEFAULT_TIMEOUT_S
    output_chars: int = DEFAULT_OUTPUT_CHARS
    source: str = "builtin"  # "builtin" or the MCP server's name, for /tools


@dataclass(frozen=True, slots=True)
class ToolCallContext:
    """Who asked, where, and when: what a tool may know of the turn."""

    key: ConversationKey
    user_id: str
    is_private: bool
    is_owner: bool
    timezone: str  # IANA name: the chat's /set timezone, else "UTC"
    now: datetime  # aware, in UTC; from the bot's clock (tests move it)
    language: str | None = None
    space_id: str = ""


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """A call's result. `text` goes back to the model as the `tool` message (data, never
    instructions); `replies` reach the chat (a drawn picture); `usage` is charged to the
    turn's conversation and user, like the model's own rounds."""

    text: str
    is_error: bool = False  # the tool failed; `text` says how, in words the model can pass on
    replies: tuple[ReplyEvent, ...] = ()  # e.g. an ImageReply
    usage: tuple[UsageRecord, ...] = field(default=())


class Tool(Protocol):
    """One callable tool."""

    @property
    def spec(self) -> ToolSpec: ...

    def progress(self, arguments: Mapping[str, object]) -> str:
        """A short line shown while the call runs, e.g. "🔎 searching: weather in Seoul"."""
        ...

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        """Run once. Raise nothing for a failure the model should hear about: return
        `ToolOutput(text=..., is_error=True)`. The loop enforces timeout and output cap."""
        ...


class ToolSource(Protocol):
    """Where tools come from (the built-ins, one MCP server...): asked at every turn, so a
    source that (re)connects later offers its tools from then on."""

    def tools(self) -> Sequence[Tool]:
        """The tools this source offers now (none while disconnected)."""
        ...

    def allowed_in(self, context: ToolCallContext) -> bool:
        """Whether this chat may use this source's tools at all (an MCP server: by default
        only owners' private chats)."""
        ...
