"""/reminders: this conversation's pending reminders in its timezone, each with a button to
cancel it; `/reminders cancel ID` cancels one (its author's, or any for an admin)."""

from __future__ import annotations

from core.boundary import Choice, CommandReply
from core.commands.context import CommandContext, CommandTools, clip, handles
from core.reminders.timezones import DEFAULT_TIMEZONE, local_time

BUTTON_TEXT_CHARS = 24


@handles("reminders")
async def reminders(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    word, _, rest = args.strip().partition(" ")
    if not word:
        return await _listing(tools, context)
    if word.lower() == "cancel" and rest.strip().lstrip("#").isdigit():
        return await _cancel(tools, context, int(rest.strip().lstrip("#")[:18]))
    return context.texts.error("reminders.usage")


async def _listing(tools: CommandTools, context: CommandContext) -> CommandReply:
    texts = context.texts
    pending = await tools.storage.reminders.pending(context.conversation.key)
    if not pending:
        return CommandReply(texts.get("reminders.none"))
    timezone = context.conversation.params.timezone or DEFAULT_TIMEZONE
    lines = [texts.get("reminders.title", timezone=timezone)]
    lines += [
        texts.get(
            "reminders.line" if r.user_name else "reminders.line_unnamed",
            id=r.id,
            when=local_time(r.due_at, timezone),
            text=r.text,
            name=r.user_name,
        )
        for r in pending
    ]
    lines.append(texts.get("reminders.hint"))
    choices = tuple(
        Choice(
            texts.get("reminders.button", id=r.id, text=clip(r.text, BUTTON_TEXT_CHARS)),
            f"/reminders cancel {r.id}",
        )
        for r in pending
    )
    return CommandReply("\n".join(lines), choices)


async def _cancel(tools: CommandTools, context: CommandContext, reminder_id: int) -> CommandReply:
    store, texts = tools.storage.reminders, context.texts
    key = context.conversation.key
    reminder = await store.get(key, reminder_id)
    if reminder is None or reminder.state != "pending":
        return texts.error("reminders.unknown", id=reminder_id)
    author = context.message.author
    if not (author.user_id == reminder.user_id or author.can_manage or context.is_owner):
        return texts.error("reminders.not_yours", id=reminder_id)
    if not await store.cancel(key, reminder_id):  # delivered or cancelled meanwhile
        return texts.error("reminders.unknown", id=reminder_id)
    return CommandReply(texts.get("reminders.cancelled", id=reminder_id, text=reminder.text))
