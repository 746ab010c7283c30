"""Commands that delete what the bot remembers: /reset (a chat's history), /forget (a user's
own data)."""

from __future__ import annotations

from core.boundary import CommandReply
from core.commands.context import CommandContext, CommandTools, handles


@handles("reset")
async def reset(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    deleted = await tools.storage.messages.delete_history(context.conversation.id)
    return CommandReply(context.texts.get("reset.done", count=deleted))


@handles("forget")
async def forget(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    key = context.conversation.key
    messages, usage = await tools.storage.erasure.forget_user(
        key.platform, context.message.author.user_id
    )
    return CommandReply(context.texts.get("forget.done", messages=messages, usage=usage))
