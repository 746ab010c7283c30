"""Running a chat command: who may, then its handler."""

from __future__ import annotations

from core.boundary import CommandReply

# Importing the handler modules registers their handlers (`@handles`).
from core.commands import (
    chat_settings,
    group_behaviour,
    info,
    media_out,
    memory,
    personas,
    reminders,
    tool_switches,
)
from core.commands.catalog import COMMAND_NAMES, TURN_COMMANDS
from core.commands.context import HANDLERS, CommandContext, CommandTools

HANDLER_MODULES = (
    chat_settings,
    group_behaviour,
    info,
    media_out,
    memory,
    personas,
    reminders,
    tool_switches,
)


class CommandRunner:
    def __init__(self, tools: CommandTools) -> None:
        unhandled = set(COMMAND_NAMES) - TURN_COMMANDS - set(HANDLERS)
        if unhandled:
            raise RuntimeError(f"declared commands without a handler: {sorted(unhandled)}")
        self._tools = tools

    def knows(self, name: str) -> bool:
        return name in COMMAND_NAMES

    async def run(self, context: CommandContext, name: str, args: str) -> CommandReply:
        spec = COMMAND_NAMES[name]
        # Showing the current persona or model is for everyone; changing it is not.
        changes = spec.admin_only and not (name in ("persona", "model") and not args)
        if changes and not context.may_manage:
            return context.texts.error("not_allowed")
        return await HANDLERS[name](self._tools, context, args)
