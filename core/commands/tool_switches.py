"""/tools: the tools this chat can use, by source, and whether each is on here; admins turn one
on or off for their chat (`/tools on|off NAME`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.boundary import CommandReply
from core.commands.context import CommandContext, CommandTools, handles
from core.model.params import ON_OFF
from core.tools.toolbox import ToolState, call_context, switches

DESCRIPTION_CHARS = 80


@handles("tools")
async def tools_command(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    texts = context.texts
    params = context.conversation.params
    call = call_context(context.message, context.is_owner, params, datetime.now(UTC))
    states = tools.toolbox.states(call, switches(params))
    words = args.split()
    if not words:
        return await _listing(tools, context, states)
    if len(words) != 2 or words[0].lower() not in ON_OFF:
        return texts.error("tools.usage")
    if not context.may_manage:
        return texts.error("not_allowed")
    on, name = ON_OFF[words[0].lower()], words[1]
    if name not in {state.tool.spec.name for state in states}:
        return texts.error("tools.unknown", name=name[:64])
    chosen = dict(params.tools) | {name: on}
    updated = replace(params, tools=tuple(sorted(chosen.items())))
    await tools.storage.conversations.update_conversation(context.conversation.id, params=updated)
    return CommandReply(texts.get("tools.switched", name=name, state=words[0].lower()))


async def _listing(
    tools: CommandTools, context: CommandContext, states: list[ToolState]
) -> CommandReply:
    texts = context.texts
    if not tools.toolbox.enabled:
        return CommandReply(texts.get("tools.off_bot"))
    if not states:
        return CommandReply(texts.get("tools.none"))
    lines = [texts.get("tools.header")]
    spec = await tools.model_spec(context)
    by_source: dict[str, list[ToolState]] = {}
    for state in states:
        by_source.setdefault(state.tool.spec.source, []).append(state)
    for source, listed in by_source.items():
        lines.append(texts.get("tools.source", source=source))
        for state in listed:
            tool = state.tool.spec
            description = " ".join(tool.description.split())
            if len(description) > DESCRIPTION_CHARS:
                description = description[: DESCRIPTION_CHARS - 1] + "…"
            line = texts.get(
                "tools.line",
                mark="✅" if state.on else "⛔",
                name=tool.name,
                description=description,
            )
            if not state.on and not state.switched:
                line += " " + texts.get("tools.off_here")
            lines.append(line)
    if not spec.caps.tools:
        lines.append(texts.get("tools.model_cannot", model=spec.name))
    return CommandReply("\n".join(lines))
