"""Chat commands: parsed and executed here, so every adapter only routes text to the core."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from core.boundary import Choice, CommandReply, IncomingMessage
from core.commands.catalog import COMMAND_NAMES, COMMANDS, command_description
from core.model.catalog import ModelCatalog, Persona
from core.model.params import SETTABLE_PARAMS, InvalidParam, parse_param
from core.personas import MAX_PROMPT_CHARS, PersonaBook, describe_prompt, valid_name
from core.policy.limits import AbuseLimits, usage_lines
from core.storage.records import ConversationState, CustomPersona
from core.storage.repository import Repository
from core.texts import Texts
from core.tokens import count_text

MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,128}$")
TRIGGER_WORD = re.compile(r"^\w{2,32}$")
MAX_TOKENS_TEXT = 100_000


Handler = Callable[["CommandContext", str], Awaitable[CommandReply]]


@dataclass(frozen=True, slots=True)
class CommandContext:
    message: IncomingMessage
    conversation: ConversationState
    texts: Texts
    space_id: str
    is_owner: bool

    @property
    def may_manage(self) -> bool:
        return (
            self.message.is_private
            or self.message.author.can_manage
            or self.is_owner
            or self.conversation.everyone_can_manage
        )


class CommandRunner:
    def __init__(
        self,
        repository: Repository,
        personas: PersonaBook,
        models: ModelCatalog,
        default_model: str,
        default_context_tokens: int,
        allow_unknown_models: bool,
        limits: AbuseLimits,
    ) -> None:
        self._repository = repository
        self._limits = limits
        self._personas = personas
        self._models = models
        self._default_model = default_model
        self._default_context_tokens = default_context_tokens
        self._allow_unknown_models = allow_unknown_models
        self._handlers: dict[str, Handler] = {
            "start": self._start,
            "help": self._help,
            "personas": self._list_personas,
            "persona": self._persona,
            "newpersona": self._new_persona,
            "delpersona": self._delete_persona,
            "reset": self._reset,
            "model": self._model,
            "models": self._list_models,
            "set": self._set,
            "settings": self._settings,
            "usage": self._usage,
            "tokens": self._tokens,
            "listen": self._listen,
            "answerall": self._answer_all,
            "trigger": self._trigger,
            "access": self._access,
            "forget": self._forget,
        }

    def knows(self, name: str) -> bool:
        return name in self._handlers

    async def run(self, context: CommandContext, name: str, args: str) -> CommandReply:
        spec = COMMAND_NAMES[name]
        # Showing the current persona or model is for everyone; changing it is not.
        changes = spec.admin_only and not (name in ("persona", "model") and not args)
        if changes and not context.may_manage:
            return context.texts.error("not_allowed")
        return await self._handlers[name](context, args)

    # -- help ---------------------------------------------------------------------------------

    async def _start(self, context: CommandContext, args: str) -> CommandReply:
        persona = await self._active_persona(context)
        intro = context.texts.get("start", persona=persona.name)
        return CommandReply(f"{intro}\n\n{self._help_text(context)}")

    async def _help(self, context: CommandContext, args: str) -> CommandReply:
        return CommandReply(self._help_text(context))

    def _help_text(self, context: CommandContext) -> str:
        language = context.texts.language
        lines = [context.texts.get("help.title")]
        for spec in COMMANDS:
            usage = f" {spec.usage}" if spec.usage else ""
            description = command_description(spec.name, language)
            lines.append(f"/{spec.name}{usage} — {description}")
        return "\n".join(lines)

    # -- personas -----------------------------------------------------------------------------

    async def _active_persona(self, context: CommandContext) -> Persona:
        key = context.conversation.key
        return await self._personas.active(
            key.platform, context.space_id, context.conversation.persona
        )

    async def _list_personas(self, context: CommandContext, args: str) -> CommandReply:
        key = context.conversation.key
        personas = await self._personas.all(key.platform, context.space_id)
        active = await self._active_persona(context)
        language = context.texts.language
        lines = [context.texts.get("personas.title")]
        for persona in personas:
            mark = "▶ " if persona.name == active.name else "• "
            own = context.texts.get("personas.custom") if not persona.builtin else ""
            lines.append(f"{mark}{persona.name}{own} — {persona.describe(language)}")
        lines.append(context.texts.get("personas.hint"))
        choices = tuple(Choice(p.name, f"/persona {p.name}") for p in personas)
        return CommandReply("\n".join(lines), choices=choices)

    async def _persona(self, context: CommandContext, args: str) -> CommandReply:
        key = context.conversation.key
        if not args:
            persona = await self._active_persona(context)
            return CommandReply(
                context.texts.get(
                    "persona.current",
                    name=persona.name,
                    description=persona.describe(context.texts.language),
                    prompt=_preview(persona.system_prompt),
                )
            )
        name = args.lower()
        chosen = await self._personas.find(key.platform, context.space_id, name)
        if chosen is None:
            return context.texts.error("persona.unknown", name=_clip(name))
        # A new persona starts a fresh window; the stored history stays.
        next_id = await self._repository.last_message_id(context.conversation.id) + 1
        await self._repository.update_conversation(
            context.conversation.id, persona=chosen.name, window_start_id=next_id
        )
        return CommandReply(context.texts.get("persona.switched", name=chosen.name))

    async def _new_persona(self, context: CommandContext, args: str) -> CommandReply:
        name, _, prompt = args.partition(" ")
        name, prompt = name.strip().lower(), prompt.strip()
        if not name or not prompt:
            return context.texts.error("newpersona.usage")
        if not valid_name(name):
            return context.texts.error("newpersona.bad_name", name=_clip(name))
        if len(prompt) > MAX_PROMPT_CHARS:
            return context.texts.error("newpersona.too_long", limit=MAX_PROMPT_CHARS)
        if self._personas.catalog.get(name) is not None:
            return context.texts.error("newpersona.builtin", name=name)
        conversation = context.conversation
        persona = CustomPersona(
            platform=conversation.key.platform,
            space_id=context.space_id,
            name=name,
            description=describe_prompt(prompt),
            system_prompt=prompt,
            model=conversation.model,
            params=replace(conversation.params, context_tokens=None).to_json(),
            created_by=context.message.author.user_id,
        )
        if not await self._repository.add_custom_persona(persona):
            return context.texts.error("newpersona.exists", name=name)
        return CommandReply(context.texts.get("newpersona.saved", name=name))

    async def _delete_persona(self, context: CommandContext, args: str) -> CommandReply:
        name = args.strip().lower()
        if not name:
            return context.texts.error("delpersona.usage")
        if self._personas.catalog.get(name) is not None:
            return context.texts.error("delpersona.builtin", name=name)
        key = context.conversation.key
        if not await self._repository.delete_custom_persona(key.platform, context.space_id, name):
            return context.texts.error("persona.unknown", name=_clip(name))
        if context.conversation.persona == name:
            await self._repository.update_conversation(context.conversation.id, persona=None)
        return CommandReply(context.texts.get("delpersona.deleted", name=name))

    # -- memory -------------------------------------------------------------------------------

    async def _reset(self, context: CommandContext, args: str) -> CommandReply:
        deleted = await self._repository.delete_history(context.conversation.id)
        return CommandReply(context.texts.get("reset.done", count=deleted))

    async def _forget(self, context: CommandContext, args: str) -> CommandReply:
        key = context.conversation.key
        messages, usage = await self._repository.forget_user(
            key.platform, context.message.author.user_id
        )
        return CommandReply(context.texts.get("forget.done", messages=messages, usage=usage))

    # -- models and parameters ----------------------------------------------------------------

    def current_model(self, conversation: ConversationState, persona_model: str | None) -> str:
        return conversation.model or persona_model or self._default_model

    async def _model(self, context: CommandContext, args: str) -> CommandReply:
        persona = await self._active_persona(context)
        if not args:
            spec = self._models.get(self.current_model(context.conversation, persona.model))
            return CommandReply(context.texts.model_line(spec, current=True))
        name = args
        if not self._models.is_known(name) and not (
            self._allow_unknown_models and MODEL_NAME.match(name)
        ):
            return context.texts.error(
                "model.unknown", name=_clip(name), models=", ".join(self._models.names())
            )
        spec = self._models.get(name)
        params = context.conversation.params
        notes = []
        if params.max_tokens is not None and params.max_tokens > spec.max_output_tokens:
            params = replace(params, max_tokens=None)
            notes.append(context.texts.get("model.max_tokens_reset"))
        if not spec.known:
            notes.append(context.texts.get("model.not_in_catalog", window=spec.context_window))
        await self._repository.update_conversation(
            context.conversation.id, model=name, params=params
        )
        text = "\n".join([context.texts.get("model.switched", name=name), *notes])
        return CommandReply(text)

    async def _list_models(self, context: CommandContext, args: str) -> CommandReply:
        persona = await self._active_persona(context)
        current = self.current_model(context.conversation, persona.model)
        lines = [context.texts.get("models.title")]
        for name in self._models.names():
            lines.append(context.texts.model_line(self._models.get(name), current=name == current))
        if not self._models.is_known(current):
            lines.append(context.texts.model_line(self._models.get(current), current=True))
        return CommandReply("\n".join(lines))

    async def _set(self, context: CommandContext, args: str) -> CommandReply:
        name, _, raw = args.partition(" ")
        if not name:
            return context.texts.error("set.usage", allowed=", ".join(SETTABLE_PARAMS))
        persona = await self._active_persona(context)
        spec = self._models.get(self.current_model(context.conversation, persona.model))
        try:
            params = parse_param(
                context.conversation.params,
                name,
                raw,
                max_output_tokens=spec.max_output_tokens,
                context_window=spec.context_window,
            )
        except InvalidParam as invalid:
            return context.texts.error(invalid.key, **invalid.values)
        await self._repository.update_conversation(context.conversation.id, params=params)
        value = params.to_json().get(name.lower(), context.texts.get("settings.default"))
        return CommandReply(context.texts.get("set.done", name=name.lower(), value=_show(value)))

    async def _settings(self, context: CommandContext, args: str) -> CommandReply:
        conversation = context.conversation
        persona = await self._active_persona(context)
        model = self.current_model(conversation, persona.model)
        effective = conversation.params.merged_over(persona.params)
        default = context.texts.get("settings.default")
        values = effective.to_json()
        values.setdefault("context_tokens", self._default_context_tokens)
        lines = [
            context.texts.get("settings.title"),
            f"persona: {persona.name}",
            f"model: {model}",
            *(f"{name}: {_show(values.get(name, default))}" for name in SETTABLE_PARAMS),
            f"listen: {_on_off(conversation.listen)}",
            f"answerall: {_on_off(conversation.answer_all)}",
            f"trigger: {conversation.trigger or '—'}",
            f"access: {'everyone' if conversation.everyone_can_manage else 'admins'}",
        ]
        return CommandReply("\n".join(lines))

    async def _usage(self, context: CommandContext, args: str) -> CommandReply:
        totals = await self._repository.usage_totals(context.conversation.id)
        if not totals:
            lines = [context.texts.get("usage.none")]
        else:
            lines = [context.texts.get("usage.title")]
            for total in totals:
                lines.append(context.texts.usage_line(total))
            cost = sum(total.cost_usd for total in totals)
            lines.append(context.texts.get("usage.total", cost=f"{cost:.4f}"))
        statuses = [] if context.is_owner else await self._limits.statuses(context.message)
        limits = usage_lines(self._limits.config, statuses, context.texts, context.is_owner)
        if limits:
            lines += ["", *limits]
        return CommandReply("\n".join(lines))

    async def _tokens(self, context: CommandContext, args: str) -> CommandReply:
        if not args:
            return context.texts.error("tokens.usage")
        if len(args) > MAX_TOKENS_TEXT:
            return context.texts.error("tokens.too_long", limit=MAX_TOKENS_TEXT)
        persona = await self._active_persona(context)
        spec = self._models.get(self.current_model(context.conversation, persona.model))
        tokens = count_text(args, spec.encoding)
        per_token = len(args) / tokens if tokens else 0.0
        return CommandReply(
            context.texts.get(
                "tokens.result",
                tokens=tokens,
                chars=len(args),
                per_token=f"{per_token:.2f}",
                model=spec.name,
                encoding=spec.encoding,
            )
        )

    # -- group behaviour ----------------------------------------------------------------------

    async def _listen(self, context: CommandContext, args: str) -> CommandReply:
        return await self._toggle(context, args, "listen", "listen")

    async def _answer_all(self, context: CommandContext, args: str) -> CommandReply:
        return await self._toggle(context, args, "answer_all", "answerall")

    async def _toggle(
        self, context: CommandContext, args: str, column: str, name: str
    ) -> CommandReply:
        value = _parse_on_off(args)
        if value is None:
            return context.texts.error("toggle.usage", name=name)
        await self._repository.update_conversation(context.conversation.id, **{column: value})
        return CommandReply(context.texts.get(f"{name}.{_on_off(value)}"))

    async def _trigger(self, context: CommandContext, args: str) -> CommandReply:
        word = args.strip()
        if word.lower() in ("off", "none"):
            await self._repository.update_conversation(context.conversation.id, trigger=None)
            return CommandReply(context.texts.get("trigger.off"))
        if not TRIGGER_WORD.match(word):
            return context.texts.error("trigger.usage")
        await self._repository.update_conversation(context.conversation.id, trigger=word.lower())
        return CommandReply(context.texts.get("trigger.on", word=word.lower()))

    async def _access(self, context: CommandContext, args: str) -> CommandReply:
        # Only real admins decide who else may change settings.
        if not (
            context.message.is_private or context.message.author.can_manage or context.is_owner
        ):
            return context.texts.error("not_allowed")
        choice = args.strip().lower()
        if choice not in ("admins", "everyone"):
            return context.texts.error("access.usage")
        everyone = choice == "everyone"
        await self._repository.update_conversation(
            context.conversation.id, everyone_can_manage=everyone
        )
        return CommandReply(context.texts.get(f"access.{choice}"))


def _parse_on_off(text: str) -> bool | None:
    word = text.strip().lower()
    if word in ("on", "yes", "true", "1", "켜기"):
        return True
    if word in ("off", "no", "false", "0", "끄기"):
        return False
    return None


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _show(value: object) -> str:
    if isinstance(value, list):
        return " | ".join(repr(item) for item in value)
    return str(value)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _preview(prompt: str, limit: int = 400) -> str:
    return prompt if len(prompt) <= limit else prompt[: limit - 1] + "…"
