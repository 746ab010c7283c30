"""Persona commands: /personas, /persona, /newpersona, /delpersona."""

from __future__ import annotations

from dataclasses import replace

from core.boundary import Choice, CommandReply
from core.commands.context import CommandContext, CommandTools, clip, handles
from core.personas import MAX_PROMPT_CHARS, describe_prompt, valid_name
from core.storage.records import CustomPersona


@handles("personas")
async def list_personas(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    key = context.conversation.key
    personas = await tools.personas.all(key.platform, context.space_id)
    active = await tools.active_persona(context)
    language = context.texts.language
    lines = [context.texts.get("personas.title")]
    for persona in personas:
        mark = "▶ " if persona.name == active.name else "• "
        own = context.texts.get("personas.custom") if not persona.builtin else ""
        lines.append(f"{mark}{persona.name}{own} — {persona.describe(language)}")
    lines.append(context.texts.get("personas.hint"))
    choices = tuple(Choice(p.name, f"/persona {p.name}") for p in personas)
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
    if not valid_name(name):
        return context.texts.error("newpersona.bad_name", name=clip(name))
    if len(prompt) > MAX_PROMPT_CHARS:
        return context.texts.error("newpersona.too_long", limit=MAX_PROMPT_CHARS)
    if tools.personas.catalog.get(name) is not None:
        return context.texts.error("newpersona.builtin", name=name)
    conversation = context.conversation
    saved = CustomPersona(
        platform=conversation.key.platform,
        space_id=context.space_id,
        name=name,
        description=describe_prompt(prompt),
        system_prompt=prompt,
        model=conversation.model,
        params=replace(conversation.params, context_tokens=None).to_json(),
        created_by=context.message.author.user_id,
    )
    if not await tools.storage.personas.add_custom_persona(saved):
        return context.texts.error("newpersona.exists", name=name)
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
