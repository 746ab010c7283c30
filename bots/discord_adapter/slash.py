"""The core's chat commands as Discord application (slash) commands.

Each slash command is turned back into the command text the core parses ("/set temperature
0.5") and sent through the same `ChatService.handle` as chat; the core checks values and
permissions. Admin commands also carry Discord's default_member_permissions (Manage Server)
so they are hidden from members who could not use them anyway - unless a manager role is
configured, because Discord could not show them to that role's members by default.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bots.chunking import split_message
from bots.discord_adapter import texts
from bots.discord_adapter.incoming import conversation_key, space_id, to_author
from bots.discord_adapter.streaming import LIMIT, NO_MENTIONS
from core.boundary import (
    AnswerDone,
    Choice,
    CommandReply,
    Failure,
    IncomingMessage,
    Notice,
    ReplyEvent,
)
from core.commands.catalog import COMMANDS, command_description
from core.model.params import SETTABLE_PARAMS

if TYPE_CHECKING:
    from bots.discord_adapter.client import DiscordBot

log = logging.getLogger(__name__)

Handler = Callable[..., Coroutine[Any, Any, None]]
SlashCommand = app_commands.Command[Any, ..., None]

RESPOND_WITHIN_S = 2.0  # Discord drops an interaction not answered within 3 s: defer before that
AUTOCOMPLETE_MAX = 25

# Commands only the adapter has (the core's catalog describes the others).
ADAPTER_DESCRIPTIONS = {"chat": "Open a thread where I answer every message"}


def incoming_from_interaction(
    interaction: discord.Interaction, text: str, manager_role: str, channel: Any = None
) -> IncomingMessage:
    channel = channel or interaction.channel
    key = conversation_key(channel)
    author = replace(to_author(interaction.user, manager_role), language=str(interaction.locale))
    return IncomingMessage(
        key=key,
        author=author,
        text=text,
        addressed=True,
        is_private=interaction.guild is None,
        message_id=f"interaction-{interaction.id}",
        space_id=space_id(interaction.guild, key),
        is_interaction=True,
    )


class ChoiceButtons(discord.ui.View):
    """Buttons for a CommandReply's choices; a press sends the choice's command to the core."""

    def __init__(self, bot: DiscordBot, choices: tuple[Choice, ...]) -> None:
        super().__init__(timeout=15 * 60)
        for choice in choices[:25]:
            button: discord.ui.Button[ChoiceButtons] = discord.ui.Button(label=choice.label[:80])
            button.callback = self._pressed(bot, choice.command)  # type: ignore[method-assign]
            self.add_item(button)

    @staticmethod
    def _pressed(bot: DiscordBot, command: str) -> Any:
        async def callback(interaction: discord.Interaction) -> None:
            await answer_interaction(bot, interaction, command)

        return callback


async def answer_interaction(
    bot: DiscordBot, interaction: discord.Interaction, command: str, *, channel: Any = None
) -> None:
    """Run `command` through the core and answer the interaction; errors only for the user."""
    with bot.tracked():
        await _answer_interaction(bot, interaction, command, channel=channel)


async def _answer_interaction(
    bot: DiscordBot, interaction: discord.Interaction, command: str, *, channel: Any
) -> None:
    incoming = incoming_from_interaction(
        interaction, command, bot.options.manager_role, channel=channel
    )
    collecting = asyncio.ensure_future(_collect(bot, incoming))
    done, _pending = await asyncio.wait({collecting}, timeout=RESPOND_WITHIN_S)
    deferred = not done
    if deferred:
        await interaction.response.defer(thinking=True)
    events = await collecting
    body, private, choices = render(events, interaction.locale)
    view = ChoiceButtons(bot, choices) if choices else None
    parts = split_message(body, LIMIT)
    first: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if view is not None and len(parts) == 1:
        first["view"] = view
    if deferred:
        await interaction.edit_original_response(content=parts[0], **first)
    else:
        await interaction.response.send_message(parts[0], ephemeral=private, **first)
    for index, part in enumerate(parts[1:], start=1):
        extra: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if view is not None and index == len(parts) - 1:
            extra["view"] = view
        await interaction.followup.send(part, ephemeral=private, **extra)


async def _collect(bot: DiscordBot, incoming: IncomingMessage) -> list[ReplyEvent]:
    return [event async for event in bot.service.handle(incoming)]


def render(
    events: list[ReplyEvent], locale: discord.Locale | None
) -> tuple[str, bool, tuple[Choice, ...]]:
    """Text to show, whether only the user should see it, and buttons."""
    shown: list[str] = []
    private = False
    choices: tuple[Choice, ...] = ()
    for event in events:
        if isinstance(event, CommandReply):
            shown.append(event.text)
            private = private or event.is_error
            choices += event.choices
        elif isinstance(event, Failure):
            shown.append(event.text)
            private = True
        elif isinstance(event, AnswerDone | Notice):
            shown.append(event.text)
    body = "\n\n".join(part for part in shown if part.strip())
    if not body:
        return texts.text("nothing", locale), True, ()
    return body, private, choices


def _specs() -> dict[str, Any]:
    return {spec.name: spec for spec in COMMANDS}


def description(name: str) -> str:
    spec = _specs().get(name)
    english = command_description(name, "en") if spec is not None else None
    return (english or ADAPTER_DESCRIPTIONS[name])[:100]


def core_korean() -> dict[str, str]:
    """The core's Korean command descriptions, keyed by its English ones, for the Translator."""
    return {
        command_description(spec.name, "en")[:100]: command_description(spec.name, "ko")[:100]
        for spec in COMMANDS
    }


def is_admin(name: str) -> bool:
    spec = _specs().get(name)
    return bool(spec.admin_only) if spec is not None else False


async def report_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """A failing handler: the traceback goes to the log, a short apology to the user only."""
    log.error("slash command failed", exc_info=error)
    message = texts.text("error", interaction.locale)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not report the failure to the user", exc_info=True)


def install(tree: app_commands.CommandTree[Any], bot: DiscordBot) -> None:
    """Add every slash command to `tree`."""
    tree.error(report_error)

    def command(name: str) -> Callable[[Handler], SlashCommand]:
        def decorate(func: Handler) -> SlashCommand:
            cmd: SlashCommand = app_commands.Command(
                name=_(name), description=_(description(name)), callback=func
            )
            if is_admin(name) and not bot.options.manager_role:
                cmd.default_permissions = discord.Permissions(manage_guild=True)
            tree.add_command(cmd)
            return cmd

        return decorate

    async def run(interaction: discord.Interaction, text: str) -> None:
        await answer_interaction(bot, interaction, text)

    async def persona_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        key = conversation_key(interaction.channel)  # type: ignore[arg-type]
        names = await bot.service.persona_names(key, space_id(interaction.guild, key))
        return _matching(names, current)

    async def model_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return _matching(bot.service.model_names(), current)

    @command("persona")
    @app_commands.rename(name=_("name"))
    @app_commands.describe(name=_("Persona name"))
    @app_commands.autocomplete(name=persona_choices)
    async def persona(interaction: discord.Interaction, name: str | None = None) -> None:
        await run(interaction, f"/persona {name}" if name else "/persona")

    @command("personas")
    async def personas(interaction: discord.Interaction) -> None:
        await run(interaction, "/personas")

    @command("reset")
    async def reset(interaction: discord.Interaction) -> None:
        await run(interaction, "/reset")

    @command("model")
    @app_commands.rename(name=_("name"))
    @app_commands.describe(name=_("Model name"))
    @app_commands.autocomplete(name=model_choices)
    async def model(interaction: discord.Interaction, name: str | None = None) -> None:
        await run(interaction, f"/model {name}" if name else "/model")

    @command("set")
    @app_commands.rename(parameter=_("parameter"), value=_("value"))
    @app_commands.describe(parameter=_("Setting to change"), value=_("New value"))
    @app_commands.choices(
        parameter=[app_commands.Choice(name=param, value=param) for param in SETTABLE_PARAMS]
    )
    async def set_(interaction: discord.Interaction, parameter: str, value: str) -> None:
        await run(interaction, f"/set {parameter} {value}")

    @command("settings")
    async def settings(interaction: discord.Interaction) -> None:
        await run(interaction, "/settings")

    @command("usage")
    async def usage(interaction: discord.Interaction) -> None:
        await run(interaction, "/usage")

    @command("tokens")
    @app_commands.rename(text=_("text"))
    @app_commands.describe(text=_("Text to count"))
    async def tokens(interaction: discord.Interaction, text: str) -> None:
        await run(interaction, f"/tokens {text}")

    @command("newpersona")
    @app_commands.rename(name=_("name"), prompt=_("prompt"))
    @app_commands.describe(name=_("Persona name"), prompt=_("The persona's instructions"))
    async def newpersona(interaction: discord.Interaction, name: str, prompt: str) -> None:
        await run(interaction, f"/newpersona {name} {prompt}")

    @command("delpersona")
    @app_commands.rename(name=_("name"))
    @app_commands.describe(name=_("Persona name"))
    @app_commands.autocomplete(name=persona_choices)
    async def delpersona(interaction: discord.Interaction, name: str) -> None:
        await run(interaction, f"/delpersona {name}")

    @command("answerall")
    @app_commands.guild_only()
    @app_commands.rename(state=_("state"))
    @app_commands.describe(state=_("on or off"))
    @app_commands.choices(
        state=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    async def answerall(interaction: discord.Interaction, state: str) -> None:
        await run(interaction, f"/answerall {state}")

    @command("chat")
    @app_commands.guild_only()
    @app_commands.rename(topic=_("topic"))
    @app_commands.describe(topic=_("First message of the thread"))
    async def chat(interaction: discord.Interaction, topic: str | None = None) -> None:
        await bot.open_chat_thread(interaction, topic)


def _matching(names: list[str], current: str) -> list[app_commands.Choice[str]]:
    wanted = current.casefold()
    ranked = sorted(
        (name for name in names if wanted in name.casefold()),
        key=lambda name: (not name.casefold().startswith(wanted), name.casefold()),
    )
    return [app_commands.Choice(name=name[:100], value=name[:100]) for name in ranked][
        :AUTOCOMPLETE_MAX
    ]
