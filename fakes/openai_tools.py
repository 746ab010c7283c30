"""Function calling for the fake OpenAI server: tool calls a scripted reply streams (one or several,
arguments in pieces, as the real API sends them), the 400s the real API answers a malformed
transcript with, and how tool calls and definitions are counted in the prompt."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Body = dict[str, Any]
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# The bot's counting rule for tool calls and definitions (core/tokens.py counts the same way).
TOKENS_PER_TOOL_CALL = 3
_CALL = -9  # a tool call's framing in the prompt sequence


@dataclass(frozen=True)
class FakeToolCall:
    """A call the fake model makes: `arguments` (a JSON text, valid or not) is streamed in
    `pieces` chunks, split anywhere, as the real API splits it."""

    name: str
    arguments: str = "{}"
    id: str = ""  # "" picks a fresh "call_..." id
    pieces: int = 1

    def call_id(self, index: int) -> str:
        return self.id or f"call_{index}_{uuid.uuid4().hex[:20]}"


def transcript_refusal(messages: Sequence[Any]) -> str | None:
    """What the real API answers (HTTP 400) a transcript whose tool messages do not line up:
    every `tool` message answers a call of the assistant message before it, and every assistant
    message with `tool_calls` is followed by a result for each of them. None when it is fine."""
    open_calls: set[str] = set()
    after_calls = False  # between an assistant's tool calls and the next other message
    for message in messages:
        if not isinstance(message, dict):
            return "Invalid type for 'messages': expected an object."
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not after_calls or call_id not in open_calls:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'."
                )
            open_calls.discard(call_id)
            continue
        if open_calls:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(sorted(open_calls))}"
            )
        after_calls = False
        if role == "assistant" and message.get("tool_calls"):
            calls = message["tool_calls"]
            if not isinstance(calls, list):
                return "Invalid type for 'tool_calls': expected an array."
            open_calls = {call.get("id") for call in calls if isinstance(call, dict)}
            after_calls = True
    if open_calls:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding "
            f"to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
            f"{', '.join(sorted(open_calls))}"
        )
    return None


def tools_refusal(tools: Any) -> str | None:
    """The 400 for a malformed `tools` parameter; None when it is fine."""
    if tools is None:
        return None
    if not isinstance(tools, list) or not tools:
        return "Invalid 'tools': empty array. Expected an array with minimum length 1."
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not function:
            return "Missing required parameter: 'tools[0].function'."
        if not TOOL_NAME.match(str(function.get("name", ""))):
            return (
                f"Invalid 'tools[0].function.name': string does not match pattern. Expected a "
                f"string that matches the pattern '{TOOL_NAME.pattern}'."
            )
    return None


def tool_call_ids(calls: Any, encode: Callable[[str], Sequence[int]]) -> list[int]:
    """An assistant message's `tool_calls` in the prompt sequence: per call its framing, name
    and arguments."""
    out: list[int] = []
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") or {} if isinstance(call, dict) else {}
        out += [_CALL] * TOKENS_PER_TOOL_CALL
        out += encode(str(function.get("name", "")))
        out += encode(str(function.get("arguments", "")))
    return out


def tools_ids(tools: Any, encode: Callable[[str], Sequence[int]]) -> list[int]:
    """A request's tool definitions in the prompt sequence: their compact JSON."""
    if not tools:
        return []
    return list(encode(json.dumps(tools, separators=(",", ":"), ensure_ascii=False)))


def calls_tokens(calls: Sequence[FakeToolCall], encode: Callable[[str], Sequence[int]]) -> int:
    """Completion tokens of the calls a reply makes."""
    return sum(len(encode(call.name)) + len(encode(call.arguments)) + 1 for call in calls)


def call_deltas(calls: Sequence[FakeToolCall]) -> list[list[Body]]:
    """The `delta.tool_calls` of each streamed chunk: per call (in index order), a first chunk
    with its id, type, name and empty arguments, then its arguments in `pieces` chunks."""
    chunks: list[list[Body]] = []
    for index, call in enumerate(calls):
        first = {
            "index": index,
            "id": call.call_id(index),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        chunks.append([first])
        text = call.arguments
        count = max(1, min(call.pieces, len(text) or 1))
        size = -(-len(text) // count) if text else 0
        for at in range(0, len(text), size or 1):
            chunks.append([{"index": index, "function": {"arguments": text[at : at + size]}}])
    return chunks


def message_calls(calls: Sequence[FakeToolCall]) -> list[Body]:
    """The calls as a non-streamed message's `tool_calls`."""
    return [
        {
            "id": call.call_id(index),
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for index, call in enumerate(calls)
    ]
