"""The chat's model and generation parameters: /model, /models, /set, /settings."""

from __future__ import annotations

from dataclasses import replace

from core.boundary import CommandReply
from core.commands.context import CommandContext, CommandTools, clip, handles, on_off, show
from core.model.params import MEDIA_OUT_PARAMS, SETTABLE_PARAMS, InvalidParam, parse_param
from core.model.request_params import ignored_params
from core.reminders.timezones import DEFAULT_TIMEZONE

MAX_NAMES_SHOWN = 30  # a custom server may list hundreds of models


@handles("model")
async def model(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    if not args:
        spec = await tools.model_spec(context)
        return CommandReply(context.texts.model_line(spec, current=True))
    name = args
    choice = tools.model_choice
    # Checked before anything is stored: an invalid or over-long name never reaches storage.
    refusal = await choice.refusal(name, context.is_owner)
    if refusal is not None:
        pickable = await choice.pickable()
        shown = ", ".join(pickable[:MAX_NAMES_SHOWN]) + (
            ", …" if len(pickable) > MAX_NAMES_SHOWN else ""
        )
        return context.texts.error(refusal, name=clip(name), models=shown or "—")
    spec = tools.models.get(name)
    params = context.conversation.params
    notes = []
    if params.max_tokens is not None and params.max_tokens > spec.max_output_tokens:
        params = replace(params, max_tokens=None)
        notes.append(context.texts.get("model.max_tokens_reset"))
    if not spec.known and spec.priced:
        notes.append(
            context.texts.get(
                "model.not_in_catalog_priced",
                window=spec.context_window,
                price=f"{spec.input_per_1m:g}",
            )
        )
    elif not spec.known:
        notes.append(context.texts.get("model.not_in_catalog", window=spec.context_window))
    if choice.unpriced_under_budget(name):  # an owner's choice: allowed, but said
        notes.append(context.texts.get("model.unpriced_owner"))
    ignored = ignored_params(params, spec.caps)
    if ignored:
        notes.append(context.texts.get("model.ignores", names=", ".join(ignored)))
    await tools.storage.conversations.update_conversation(
        context.conversation.id, model=name, params=params
    )
    return CommandReply("\n".join([context.texts.get("model.switched", name=name), *notes]))


@handles("models")
async def list_models(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    """Each provider's models (a custom server's own list), as far as this user may pick them;
    grouped under the provider's name when there are several."""
    current = await tools.model_name(context)
    models, choice, texts = tools.models, tools.model_choice, context.texts
    groups = await choice.available()
    if len(groups) == 1 and groups[0].failure is not None:
        return texts.error(f"error.{groups[0].failure}")
    pickable = None if context.is_owner else set(await choice.pickable())
    lines = [texts.get("models.title")]
    shown: set[str] = set()
    for group in groups:
        names = [n for n in group.names if pickable is None or n in pickable]
        if len(groups) > 1:
            key = "models.provider_failed" if group.failure else "models.provider"
            lines.append(texts.get(key, provider=group.provider))
        lines += [texts.model_line(models.get(n), current=n == current) for n in names]
        shown.update(names)
    if current not in shown:
        lines.append(texts.model_line(models.get(current), current=True))
    return CommandReply("\n".join(lines))


@handles("set")
async def set_param(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    name, _, raw = args.partition(" ")
    if not name:
        return context.texts.error("set.usage", allowed=", ".join(SETTABLE_PARAMS))
    spec = await tools.model_spec(context)
    try:
        if name.lower() in MEDIA_OUT_PARAMS:
            params = tools.media_out.parse(context.conversation.params, name, raw)
        else:
            params = parse_param(
                context.conversation.params,
                name,
                raw,
                max_output_tokens=spec.max_output_tokens,
                context_window=spec.context_window,
                caps=spec.caps,
            )
    except InvalidParam as invalid:
        return context.texts.error(invalid.key, **invalid.values)
    await tools.storage.conversations.update_conversation(context.conversation.id, params=params)
    name = name.lower()
    value = params.to_json().get(name)
    done = context.texts.get(
        "set.done",
        name=name,
        value=show(value) if value is not None else context.texts.get("settings.default"),
    )
    if name in ignored_params(params, spec.caps):
        # Stored all the same: it applies again when the chat switches back to a model that
        # takes it.
        done += " " + context.texts.get("set.ignored", model=spec.name)
    return CommandReply(done)


@handles("settings")
async def settings(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    conversation = context.conversation
    persona = await tools.active_persona(context)
    model_name = tools.models.name_for_chat(conversation.model, persona.model)
    effective = conversation.params.merged_over(persona.params)
    default = context.texts.get("settings.default")
    values = effective.to_json()
    values.setdefault("context_tokens", tools.default_context_tokens)
    values.setdefault("timezone", DEFAULT_TIMEZONE)
    ignored = set(ignored_params(effective, tools.models.get(model_name).caps))
    note = " " + context.texts.get("settings.ignored")
    lines = [
        context.texts.get("settings.title"),
        f"persona: {persona.name}",
        f"model: {model_name}",
        *(
            f"{name}: {show(values.get(name, default))}{note if name in ignored else ''}"
            for name in SETTABLE_PARAMS
        ),
        f"listen: {on_off(conversation.listen)}",
        f"answerall: {on_off(conversation.answer_all)}",
        f"trigger: {conversation.trigger or '—'}",
        f"access: {'everyone' if conversation.everyone_can_manage else 'admins'}",
        f"voice replies: {on_off(bool(effective.voice_replies))}",
    ]
    return CommandReply("\n".join(lines))
