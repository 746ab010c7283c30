"""Running one tool call: its arguments parsed, its time and output bounded, any failure turned
into an error result the model can read. Nothing a tool raises reaches the turn, and its
message is never logged (it may quote a key or a URL with a token)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping

from core.model.client import ToolCall
from core.tools.base import Tool, ToolCallContext, ToolOutput

log = logging.getLogger("core.tools")


def parsed_arguments(call: ToolCall) -> Mapping[str, object] | None:
    """The call's arguments as an object; None when they are not a JSON object."""
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        return None
    return arguments if isinstance(arguments, dict) else None


async def run_call(
    tool: Tool | None, call: ToolCall, context: ToolCallContext, time_left_s: float
) -> ToolOutput:
    """`call` run by `tool` within its own timeout (and what is left of the turn's), its text
    cut to the tool's output cap."""
    if tool is None:
        return ToolOutput(f"There is no tool named {call.name[:64]!r}.", is_error=True)
    arguments = parsed_arguments(call)
    if arguments is None:
        return ToolOutput("The arguments were not a JSON object.", is_error=True)
    spec = tool.spec
    timeout = max(0.0, min(spec.timeout_s, time_left_s))
    try:
        async with asyncio.timeout(timeout):
            output = await tool.run(arguments, context)
    except TimeoutError:
        log.info("tool %s timed out after %.1f s in %s", spec.name, timeout, context.key)
        return ToolOutput(f"The tool did not answer within {timeout:g} seconds.", is_error=True)
    except Exception as error:
        log.warning("tool %s failed in %s: %s", spec.name, context.key, type(error).__name__)
        return ToolOutput("The tool failed.", is_error=True)
    return capped(output, spec.output_chars)


def capped(output: ToolOutput, limit: int) -> ToolOutput:
    """The output with its text cut to `limit` characters, saying so."""
    text = output.text if isinstance(output.text, str) else str(output.text)
    if len(text) <= limit:
        return output
    note = f"\n[cut: the tool returned {len(text):,} characters; the first {limit:,} are shown]"
    return ToolOutput(text[:limit] + note, output.is_error, output.replies, output.usage)
