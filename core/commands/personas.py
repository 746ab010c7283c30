"""Persona commands: /personas, /persona, /newpersona, /delpersona."""

from __future__ import annotations

from dataclasses import replace

from core.boundary import Choice, CommandReply
from core.commands.context import CommandContext, CommandTools, clip, handles
from core.personas import describe_prompt
from core.storage.records import CustomPersona

# /personas stays one readable message with a keyboard every platform accepts (Discord takes 25
# buttons, Telegram refuses a few thousand), however many personas a space holds.
LISTED_CUSTOM = 30
MAX_CHOICES = 24
DESCRIPTION_SHOWN = 100


@handles("personas")
async def list_personas(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    key = context.conversation.key
    personas = await tools.personas.all(key.platform, context.space_id, LISTED_CUSTOM)
    listed_custom = sum(1 for persona in personas if not persona.builtin)
    unlisted = 0
    if listed_custom == LISTED_CUSTOM:
        unlisted = await tools.personas.count_custom(key.platform, context.space_id) - listed_custom
    active = await tools.active_persona(context)
    language = context.texts.language
    lines = [context.texts.get("personas.title")]
    for persona in personas:
        mark = "▶ " if persona.name == active.name else "• "
        own = ""
        if not persona.builtin:
            own = context.texts.get("personas.shared" if persona.shared else "personas.custom")
        description = clip(persona.describe(language), DESCRIPTION_SHOWN)
        lines.append(f"{mark}{persona.name}{own} — {description}")
    if unlisted > 0:
        lines.append(context.texts.get("personas.more", count=unlisted))
    lines.append(context.texts.get("personas.hint"))
    choices = tuple(Choice(p.name, f"/persona {p.name}") for p in personas[:MAX_CHOICES])
    return CommandReply("\n".join(lines), choices=choices)


@handles("persona")
async def persona(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    if not args:
        active = await tools.active_persona(context)
        return CommandReply(
            context.texts.get(
                "persona.current",
                name=active.name,
                description=active.describe(context.texts.language),
                prompt=clip(active.system_prompt, 400),
            )
        )
    name = args.lower()
    key = context.conversation.key
    chosen = await tools.personas.find(key.platform, context.space_id, name)
    if chosen is None:
        return context.texts.error("persona.unknown", name=clip(name))
    # A new persona starts a fresh window; the stored history stays.
    next_id = await tools.storage.messages.last_message_id(context.conversation.id) + 1
    await tools.storage.conversations.update_conversation(
        context.conversation.id, persona=chosen.name, window_start_id=next_id
    )
    return CommandReply(context.texts.get("persona.switched", name=chosen.name))


@handles("newpersona")
async def new_persona(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    name, _, prompt = args.partition(" ")
    name, prompt = name.strip().lower(), prompt.strip()
    if not name or not prompt:
        return context.texts.error("newpersona.usage")
    refusal = tools.personas.refusal(name, prompt)
    if refusal is not None:
        return context.texts.error(refusal.key, **refusal.values)
    conversation = context.conversation
    saved = CustomPersona(
        platform=conversation.key.platform,
        space_id=context.space_id,
        name=name,
        description=describe_prompt(prompt),
        system_prompt=prompt,
        model=conversation.model,
        params=replace(conversation.params, context_tokens=None, tools=()).to_json(),
        created_by=context.message.author.user_id,
    )
    refusal = tools.personas.save_refusal(await tools.personas.save(saved), name)
    if refusal is not None:
        return context.texts.error(refusal.key, **refusal.values)
    return CommandReply(context.texts.get("newpersona.saved", name=name))


@handles("delpersona")
async def delete_persona(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    name = args.strip().lower()
    if not name:
        return context.texts.error("delpersona.usage")
    if tools.personas.catalog.get(name) is not None:
        return context.texts.error("delpersona.builtin", name=name)
    key = context.conversation.key
    if not await tools.storage.personas.delete_custom_persona(key.platform, context.space_id, name):
        return context.texts.error("persona.unknown", name=clip(name))
    if context.conversation.persona == name:
        await tools.storage.conversations.update_conversation(context.conversation.id, persona=None)
    return CommandReply(context.texts.get("delpersona.deleted", name=name))
