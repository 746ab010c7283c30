"""An MCP server's tools as the model sees them: server-qualified names valid for the OpenAI
API, their specs, and a call's result turned into the `tool` message's text."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import mcp_types as types

from config.mcp_config import McpServerConfig
from core.tools.base import ToolCallContext, ToolOutput, ToolSpec

# How a tool reaches its server's current session: (the tool's own name, arguments) -> result.
CallTool = Callable[[str, dict[str, Any]], Awaitable[ToolOutput]]

NAME_MAX = 64  # OpenAI's limit on a function's name: ^[a-zA-Z0-9_-]{1,64}$
NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
DESCRIPTION_MAX = 1024
EMPTY_SCHEMA: Mapping[str, object] = {"type": "object", "properties": {}}


def qualified_names(prefix: str, tool_names: Sequence[str]) -> list[str]:
    """`prefix__tool` for each tool, in order: sanitized, at most 64 characters, unique. A name
    that had to be cut or that collides gets a short hash of the original, so the same listing
    always gives the same names (a reconnect does not rename a tool under the model's feet)."""
    room = NAME_MAX - len(prefix) - 2
    taken: set[str] = set()
    names: list[str] = []
    for original in tool_names:
        tail = NOT_NAME_CHARS.sub("_", original).strip("_") or "tool"
        if len(tail) > room or f"{prefix}__{tail}" in taken:
            digest = hashlib.sha256(original.encode()).hexdigest()[:6]
            tail = f"{tail[: room - 7]}_{digest}"
        name = f"{prefix}__{tail}"
        taken.add(name)
        names.append(name)
    return names


class McpTool:
    """One tool of a connected MCP server; calls go through the server's current session."""

    def __init__(
        self,
        server_name: str,
        config: McpServerConfig,
        tool: types.Tool,
        qualified_name: str,
        call: CallTool,
    ) -> None:
        self._server_name = server_name
        self._call = call
        self.mcp_name = tool.name
        description = tool.description or tool.title or tool.name
        schema: Mapping[str, object] = tool.input_schema or EMPTY_SCHEMA
        self._spec = ToolSpec(
            name=qualified_name,
            description=description[:DESCRIPTION_MAX],
            parameters=schema,
            acts_outside=config.acts_outside,
            needs_confirmation=config.needs_confirmation(tool.name, qualified_name),
            timeout_s=config.timeout,
            source=server_name,
        )

    @property
    def spec(self) -> ToolSpec:
        return self._spec

    def progress(self, arguments: Mapping[str, object]) -> str:
        return f"🔧 {self._server_name}: {self.mcp_name}"

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        return await self._call(self.mcp_name, dict(arguments))


def result_output(result: types.CallToolResult, limit: int) -> ToolOutput:
    """The text of an MCP result for the model: its text parts, a short note for each picture,
    sound or resource (their bytes mean nothing to the model), `isError` kept. Cut at `limit`
    characters, above the loop's own cap, so that the loop still marks the cut for the model
    while a huge answer is not copied whole."""
    parts: list[str] = []
    size = 0
    for block in result.content:
        if size > limit:
            break
        part = _content_text(block)
        parts.append(part)
        size += len(part) + 1
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(part for part in parts if part)[:limit] or "(no output)"
    return ToolOutput(text=text, is_error=bool(result.is_error))


def _content_text(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent):
        return f"[image: {block.mime_type}, {_decoded_size(block.data)} bytes, not shown]"
    if isinstance(block, types.AudioContent):
        return f"[audio: {block.mime_type}, {_decoded_size(block.data)} bytes, not played]"
    if isinstance(block, types.ResourceLink):
        return f"[resource: {block.uri}]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return f"[resource: {resource.uri}]\n{resource.text}"
        return f"[resource: {resource.uri}, {resource.mime_type or 'binary'}, not shown]"
    return f"[{getattr(block, 'type', 'unknown')} content, not shown]"


def _decoded_size(data: str) -> int:
    return len(data) * 3 // 4 - data[-2:].count("=")
