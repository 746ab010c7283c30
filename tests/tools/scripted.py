"""A test-only ToolSource: tools defined by the test, the outside world of the tool loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.tools.base import Tool, ToolCallContext, ToolOutput, ToolSpec

Run = Callable[[Mapping[str, object], ToolCallContext], Awaitable[ToolOutput]]


def answering(text: str) -> Run:
    async def run(arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        return ToolOutput(text.format(**arguments))

    return run


def hanging() -> Run:
    async def run(arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return run


@dataclass
class ScriptedTool:
    name: str
    run_with: Run
    acts_outside: bool = False
    needs_confirmation: bool = False
    timeout_s: float = 20.0
    output_chars: int = 16_000
    source: str = "builtin"
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(
            name=self.name,
            description=f"The {self.name} tool.",
            parameters={"type": "object", "properties": {"q": {"type": "string"}}},
            acts_outside=self.acts_outside,
            needs_confirmation=self.needs_confirmation,
            timeout_s=self.timeout_s,
            output_chars=self.output_chars,
            source=self.source,
        )

    def progress(self, arguments: Mapping[str, object]) -> str:
        return f"🔎 {self.name}: {arguments.get('q', '')}"

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        self.calls.append(dict(arguments))
        return await self.run_with(arguments, context)


@dataclass
class ScriptedSource:
    listed: Sequence[Tool]
    allowed: bool = True

    def tools(self) -> Sequence[Tool]:
        return self.listed

    def allowed_in(self, context: ToolCallContext) -> bool:
        return self.allowed


# The tools every bot has by default besides a test's own (the clock, reminders, reading a web
# page): left out of the assertions about what a test's sources offer.
DEFAULT_TOOLS = frozenset(
    {"current_time", "set_reminder", "list_reminders", "cancel_reminder", "read_web_page"}
)


def without_default_tools(names_or_lines: list[str]) -> list[str]:
    """`names_or_lines` without the timekeeping tools' names or /tools lines."""
    return [
        item
        for item in names_or_lines
        if item not in DEFAULT_TOOLS
        and item.split(" ", 1)[-1].split(":", 1)[0] not in DEFAULT_TOOLS
    ]
