"""How the bot behaves in a group: /listen, /answerall, /trigger, /access."""

from __future__ import annotations

import re

from core.boundary import CommandReply
from core.commands.context import CommandContext, CommandTools, handles, on_off

TRIGGER_WORD = re.compile(r"^\w{2,32}$")


@handles("listen")
async def listen(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    return await _toggle(tools, context, args, "listen", "listen")


@handles("answerall")
async def answer_all(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    return await _toggle(tools, context, args, "answer_all", "answerall")


async def _toggle(
    tools: CommandTools, context: CommandContext, args: str, column: str, name: str
) -> CommandReply:
    value = _parse_on_off(args)
    if value is None:
        return context.texts.error("toggle.usage", name=name)
    await tools.storage.conversations.update_conversation(
        context.conversation.id, **{column: value}
    )
    return CommandReply(context.texts.get(f"{name}.{on_off(value)}"))


@handles("trigger")
async def trigger(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    word = args.strip()
    conversations = tools.storage.conversations
    if word.lower() in ("off", "none"):
        await conversations.update_conversation(context.conversation.id, trigger=None)
        return CommandReply(context.texts.get("trigger.off"))
    if not TRIGGER_WORD.match(word):
        return context.texts.error("trigger.usage")
    await conversations.update_conversation(context.conversation.id, trigger=word.lower())
    return CommandReply(context.texts.get("trigger.on", word=word.lower()))


@handles("access")
async def access(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    # Only real admins decide who else may change settings.
    if not (context.message.is_private or context.message.author.can_manage or context.is_owner):
        return context.texts.error("not_allowed")
    choice = args.strip().lower()
    if choice not in ("admins", "everyone"):
        return context.texts.error("access.usage")
    await tools.storage.conversations.update_conversation(
        context.conversation.id, everyone_can_manage=choice == "everyone"
    )
    return CommandReply(context.texts.get(f"access.{choice}"))


def _parse_on_off(text: str) -> bool | None:
    word = text.strip().lower()
    if word in ("on", "yes", "true", "1", "켜기"):
        return True
    if word in ("off", "no", "false", "0", "끄기"):
        return False
    return None
