"""What every command handler gets: the message and its chat (`CommandContext`), the bot's
parts it may use (`CommandTools`), and `@handles`, which registers a handler for a declared
command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.boundary import CommandReply, IncomingMessage
from core.commands.catalog import COMMAND_NAMES
from core.media.out_params import MediaOutOptions
from core.model.catalog import ModelCatalog, ModelSpec
from core.model.choice import ModelChoice
from core.model.token_ratios import TokenRatios
from core.personas import Persona, PersonaBook
from core.policy.limits import AbuseLimits
from core.storage.records import ConversationState
from core.storage.stores import Storage
from core.texts import Texts
from core.tools.toolbox import ToolBox


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


@dataclass(frozen=True, slots=True)
class CommandTools:
    storage: Storage
    personas: PersonaBook
    models: ModelCatalog
    limits: AbuseLimits
    default_context_tokens: int
    model_choice: ModelChoice  # which models /model accepts and /models lists
    token_ratios: TokenRatios = field(default_factory=TokenRatios)  # for /tokens' estimates
    media_out: MediaOutOptions = field(default_factory=MediaOutOptions)  # /set image_*, /voice
    toolbox: ToolBox = field(default_factory=ToolBox)  # /tools

    async def active_persona(self, context: CommandContext) -> Persona:
        key = context.conversation.key
        return await self.personas.active(
            key.platform, context.space_id, context.conversation.persona
        )

    async def model_name(self, context: CommandContext) -> str:
        """The model this chat talks to now."""
        persona = await self.active_persona(context)
        return self.models.name_for_chat(context.conversation.model, persona.model)

    async def model_spec(self, context: CommandContext) -> ModelSpec:
        return self.models.get(await self.model_name(context))


Handler = Callable[[CommandTools, CommandContext, str], Awaitable[CommandReply]]
HANDLERS: dict[str, Handler] = {}


def handles(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of the declared command `name`."""

    def register(handler: Handler) -> Handler:
        if name not in COMMAND_NAMES:
            raise ValueError(f"/{name} is not declared in core/commands/catalog.py")
        if name in HANDLERS:
            raise ValueError(f"/{name} has two handlers")
        HANDLERS[name] = handler
        return handler

    return register


def clip(text: str, limit: int = 40) -> str:
    """User text quoted back in a reply, cut to a line's length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def on_off(value: bool) -> str:
    return "on" if value else "off"


def show(value: object) -> str:
    if isinstance(value, bool):
        return on_off(value)
    if isinstance(value, dict):  # logit_bias
        return ",".join(f"{token}:{bias}" for token, bias in value.items())
    if isinstance(value, list):
        return " | ".join(repr(item) for item in value)
    return str(value)
