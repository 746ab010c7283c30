"""The chat commands, declared once: adapters build menus and slash commands from this list.

A command is declared here (name, arguments, who may use it) and handled by the function
registered for its name with `@handles` in one module of this package (`personas.py`,
`chat_settings.py`, ...); the runner refuses to start if any declared command has no handler.
Its description, like every text users read, is in `core/texts.py` under `command.<name>`.
This module imports no storage: adapters read it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.model.params import SETTABLE_PARAMS
from core.reminders.timezones import zone_names
from core.texts import Texts


class ArgKind(enum.Enum):
    """What an argument holds, so a platform can offer the right input for it."""

    TEXT = "text"
    PERSONA = "persona"  # a persona's name: adapters may autocomplete it
    MODEL = "model"  # a model's name: adapters may autocomplete it
    PARAMETER = "parameter"  # one of SETTABLE_PARAMS
    PARAMETER_VALUE = "parameter_value"  # a /set value: adapters may suggest some (time zones)
    ON_OFF = "on_off"


ARG_CHOICES: dict[ArgKind, tuple[str, ...]] = {
    ArgKind.PARAMETER: SETTABLE_PARAMS,
    ArgKind.ON_OFF: ("on", "off"),
}


@dataclass(frozen=True, slots=True)
class CommandArg:
    name: str  # its description is the text `arg.<command>.<name>`
    kind: ArgKind = ArgKind.TEXT
    required: bool = True


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str = ""
    admin_only: bool = False  # changes the chat's settings: admins only (unless /access)
    args: tuple[CommandArg, ...] = ()
    # Offered as a platform's own command (a Discord slash command); typing it works anyway.
    app_command: bool = False
    group_only: bool = False  # means nothing in a private chat
    # Runs as a turn (asks a provider, answers with media): the service routes it, no handler.
    turn: bool = False


def _persona(required: bool) -> tuple[CommandArg, ...]:
    return (CommandArg("name", ArgKind.PERSONA, required),)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start"),
    CommandSpec("help"),
    CommandSpec("personas", app_command=True),
    CommandSpec("persona", "[NAME]", True, _persona(False), app_command=True),
    CommandSpec(
        "newpersona",
        "NAME PROMPT",
        True,
        (CommandArg("name"), CommandArg("prompt")),
        app_command=True,
    ),
    CommandSpec("delpersona", "NAME", True, _persona(True), app_command=True),
    CommandSpec("reset", admin_only=True, app_command=True),
    CommandSpec(
        "model", "[NAME]", True, (CommandArg("name", ArgKind.MODEL, False),), app_command=True
    ),
    CommandSpec("models"),
    CommandSpec(
        "set",
        "PARAM VALUE",
        True,
        (CommandArg("parameter", ArgKind.PARAMETER), CommandArg("value", ArgKind.PARAMETER_VALUE)),
        app_command=True,
    ),
    CommandSpec("settings", app_command=True),
    CommandSpec("usage", app_command=True),
    CommandSpec("tokens", "TEXT", args=(CommandArg("text"),), app_command=True),
    CommandSpec("listen", "on|off", True),
    CommandSpec(
        "answerall",
        "on|off",
        True,
        (CommandArg("state", ArgKind.ON_OFF),),
        app_command=True,
        group_only=True,
    ),
    CommandSpec("trigger", "WORD|off", True),
    CommandSpec("access", "admins|everyone", True),
    CommandSpec("forget"),
    CommandSpec("image", "PROMPT", args=(CommandArg("prompt"),), app_command=True, turn=True),
    CommandSpec("speak", "TEXT", args=(CommandArg("text"),), app_command=True, turn=True),
    CommandSpec(
        "voice", "on|off", True, (CommandArg("state", ArgKind.ON_OFF, False),), app_command=True
    ),
    # Listing is for everyone; switching a tool is for admins (checked by its handler).
    CommandSpec(
        "tools",
        "[on|off NAME]",
        args=(CommandArg("action", ArgKind.ON_OFF, False), CommandArg("name", required=False)),
        app_command=True,
    ),
    CommandSpec(
        "reminders", "[cancel ID]", args=(CommandArg("action", required=False),), app_command=True
    ),
)
COMMAND_NAMES = {spec.name: spec for spec in COMMANDS}
TURN_COMMANDS = frozenset(spec.name for spec in COMMANDS if spec.turn)
# A press of a tool's "Yes" or "No" (`/confirm ID yes|no`, core/turn/tool_loop.py): not declared
# above (nobody types it), and never queued behind its conversation, whose turn waits for it.
ANSWER_COMMAND = "confirm"


def value_suggestions(parameter: str) -> list[str]:
    """Values a platform may suggest for `/set PARAMETER` (the time zones); [] for those
    whose values are few and said by the refusal, or free."""
    return zone_names() if parameter.strip().lower() == "timezone" else []


def command_description(name: str, language: str | None) -> str:
    """The one-line description of a command, in `language` (English when missing)."""
    return Texts(language).get(f"command.{name}")


def argument_description(command: str, arg: str, language: str | None) -> str:
    return Texts(language).get(f"arg.{command}.{arg}")


def parse_command(text: str) -> tuple[str, str] | None:
    """("name", "arguments") for a "/name@bot arguments" message, else None."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    word, _, args = stripped[1:].partition(" ")
    if "\n" in word:
        word, _, rest = word.partition("\n")
        args = f"{rest} {args}".strip()
    name = word.split("@", 1)[0].lower()
    if not name or not name.replace("_", "").isalnum():
        return None
    return name, args.strip()


def names_another_bot(text: str) -> bool:
    """Whether a command is written "/cmd@somebot".

    Adapters strip their own bot's name, so any name the core still sees is another bot's.
    """
    word = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return "@" in word


def answers_a_waiting_turn(text: str) -> bool:
    """Whether a message is the answer a turn of its conversation waits for (a tool's Yes or
    No): it must be handled at once, never after that turn."""
    command = parse_command(text)
    return command is not None and command[0] == ANSWER_COMMAND and not names_another_bot(text)
