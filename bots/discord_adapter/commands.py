"""The slash commands, generated from the core's command catalog, plus the adapter's /chat.

Each core command marked `app_command` becomes a slash command with the options its arguments
declare; its handler turns the options back into the command text the core parses ("/set
temperature 0.5") and answers through the same `ChatPort.handle` as chat, so the core checks
values and permissions. Admin commands also carry Discord's default_member_permissions
(Manage Server) so they are hidden from members who could not use them anyway - unless a
manager role is configured, because Discord could not show them to that role's members by
default.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bots.discord_adapter.delivery import report_command_error
from bots.discord_adapter.incoming import conversation_key, space_id
from bots.discord_adapter.texts import (
    CHAT_DESCRIPTION,
    CHAT_TOPIC_DESCRIPTION,
    english_description,
)
from core.boundary import ChatPort
from core.commands.catalog import (
    ARG_CHOICES,
    COMMANDS,
    ArgKind,
    CommandSpec,
    argument_description,
    command_description,
    value_suggestions,
)

SlashCommand = app_commands.Command[Any, ..., None]
# Answers an interaction with the command text it stands for.
RunCommand = Callable[[discord.Interaction, str], Awaitable[None]]
OpenThread = Callable[[discord.Interaction, str | None], Awaitable[None]]
Autocomplete = Callable[
    [discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]

AUTOCOMPLETE_MAX = 25


def install_commands(
    tree: app_commands.CommandTree[Any],
    chat: ChatPort,
    *,
    manager_role: str,
    run_command: RunCommand,
    open_thread: OpenThread,
) -> None:
    """Add every slash command to `tree`."""
    tree.error(report_command_error)
    autocompletes = autocompletions(chat)
    for spec in COMMANDS:
        if spec.app_command:
            tree.add_command(core_command(spec, run_command, autocompletes, guard=not manager_role))
    tree.add_command(chat_command(open_thread))


def core_command(
    spec: CommandSpec,
    run_command: RunCommand,
    autocompletes: dict[ArgKind, Autocomplete],
    *,
    guard: bool,
) -> SlashCommand:
    """The slash command for `spec`; `guard` hides an admin command from non-managers."""

    async def callback(interaction: discord.Interaction, **values: str | None) -> None:
        await run_command(interaction, command_text(spec, values))

    # discord.py reads a command's options from its callback's signature.
    callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [_interaction_parameter()]
        + [
            inspect.Parameter(
                arg.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=str if arg.required else str | None,
                default=inspect.Parameter.empty if arg.required else None,
            )
            for arg in spec.args
        ]
    )
    if spec.args:
        app_commands.rename(**{arg.name: _(arg.name) for arg in spec.args})(callback)
        app_commands.describe(
            **{
                arg.name: _(english_description(argument_description(spec.name, arg.name, "en")))
                for arg in spec.args
            }
        )(callback)
    choices = {
        arg.name: [app_commands.Choice(name=value, value=value) for value in ARG_CHOICES[arg.kind]]
        for arg in spec.args
        if arg.kind in ARG_CHOICES and arg.kind not in autocompletes
    }
    if choices:
        app_commands.choices(**choices)(callback)
    completed = {
        arg.name: autocompletes[arg.kind] for arg in spec.args if arg.kind in autocompletes
    }
    if completed:
        app_commands.autocomplete(**completed)(callback)
    if spec.group_only:
        app_commands.guild_only(callback)
    command: SlashCommand = app_commands.Command(
        name=_(spec.name),
        description=_(english_description(command_description(spec.name, "en"))),
        callback=callback,
    )
    if spec.admin_only and guard:
        command.default_permissions = discord.Permissions(manage_guild=True)
    return command


def command_text(spec: CommandSpec, values: dict[str, str | None]) -> str:
    """The typed command a slash command stands for: "/set temperature 0.5", "/persona"."""
    words = [f"/{spec.name}"]
    for arg in spec.args:
        value = values.get(arg.name)
        if value or arg.required:
            words.append(value or "")
    return " ".join(words)


def chat_command(open_thread: OpenThread) -> SlashCommand:
    """/chat [topic]: open a thread where the bot answers every message."""

    @app_commands.guild_only()
    @app_commands.rename(topic=_("topic"))
    @app_commands.describe(topic=_(CHAT_TOPIC_DESCRIPTION))
    async def chat(interaction: discord.Interaction, topic: str | None = None) -> None:
        await open_thread(interaction, topic)

    return app_commands.Command(
        name=_("chat"), description=_(english_description(CHAT_DESCRIPTION)), callback=chat
    )


def autocompletions(chat: ChatPort) -> dict[ArgKind, Autocomplete]:
    """Suggestions for the argument kinds whose values the core can list."""

    async def personas(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        key = conversation_key(interaction.channel)  # type: ignore[arg-type]
        return matching_choices(
            await chat.persona_names(key, space_id(interaction.guild_id, key)), current
        )

    async def models(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return matching_choices(chat.model_names(), current)

    async def parameters(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Suggested rather than offered as fixed choices: /set has more parameters than the
        # 25 choices Discord allows an option.
        return matching_choices(list(ARG_CHOICES[ArgKind.PARAMETER]), current)

    async def values(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        parameter = str(getattr(interaction.namespace, "parameter", "") or "")
        return matching_choices(value_suggestions(parameter), current)

    return {
        ArgKind.PERSONA: personas,
        ArgKind.MODEL: models,
        ArgKind.PARAMETER: parameters,
        ArgKind.PARAMETER_VALUE: values,
    }


def matching_choices(names: list[str], current: str) -> list[app_commands.Choice[str]]:
    """Names containing what was typed so far, those starting with it first."""
    wanted = current.casefold()
    ranked = sorted(
        (name for name in names if wanted in name.casefold()),
        key=lambda name: (not name.casefold().startswith(wanted), name.casefold()),
    )
    return [app_commands.Choice(name=name[:100], value=name[:100]) for name in ranked][
        :AUTOCOMPLETE_MAX
    ]


def _interaction_parameter() -> inspect.Parameter:
    return inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
