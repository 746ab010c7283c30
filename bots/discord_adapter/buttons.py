"""The buttons under a command reply: one per `Choice`, pressing it sends its command back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from core.boundary import Choice

# What a press does: answer the interaction with the command text the button stands for.
PressHandler = Callable[[discord.Interaction, str], Awaitable[None]]

MAX_BUTTONS = 25  # Discord's limit per message (5 rows of 5)
MAX_LABEL = 80
TIMEOUT_S = 15 * 60


class ChoiceButtons(discord.ui.View):
    """Buttons for a CommandReply's choices; a press hands the choice's command to `on_press`."""

    def __init__(self, choices: tuple[Choice, ...], on_press: PressHandler) -> None:
        super().__init__(timeout=TIMEOUT_S)
        for choice in choices[:MAX_BUTTONS]:
            button: discord.ui.Button[ChoiceButtons] = discord.ui.Button(
                label=choice.label[:MAX_LABEL]
            )
            button.callback = _pressed(on_press, choice.command)  # type: ignore[method-assign]
            self.add_item(button)


def _pressed(on_press: PressHandler, command: str) -> Any:
    async def callback(interaction: discord.Interaction) -> None:
        await on_press(interaction, command)

    return callback
