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
    removed = await tools.storage.erasure.forget_user(
        key.platform,
        context.message.author.user_id,
        # A private chat is the user's own: it goes whole. In a group, only their part goes.
        private_chat_id=key.chat_id if context.message.is_private else None,
    )
    # Reminders quote what the user wrote: theirs go too (pending ones are not sent).
    await tools.storage.reminders.forget_user(context.message.author.user_id, key.platform)
    return CommandReply(
        context.texts.get(
            "forget.done",
            messages=removed.messages,
            answers=removed.answers,
            personas=removed.personas,
            conversations=removed.conversations,
            usage=removed.usage_kept,
        )
    )
