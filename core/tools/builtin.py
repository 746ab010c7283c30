"""The built-in tools this part of the bot owns: drawing a picture (/image as a tool), so
"draw me a cat" works without the command when image generation is on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.boundary import Author, IncomingMessage
from core.storage.stores import Storage
from core.texts import Texts
from core.texts_tools import DRAW_DESCRIPTION, DRAW_PROMPT
from core.tools.base import Tool, ToolCallContext, ToolOutput, ToolSpec
from core.turn.media_out import MediaOut

DRAW_TIMEOUT_S = 120.0  # an image model takes a while; the loop's own limit still holds
PROGRESS_PROMPT_CHARS = 60


class DrawImage:
    """`draw_image(prompt)`: the chat's image model, size and quality, charged as /image is."""

    def __init__(self, media_out: MediaOut, storage: Storage) -> None:
        self._media_out = media_out
        self._storage = storage
        self._spec = ToolSpec(
            name="draw_image",
            description=DRAW_DESCRIPTION,
            parameters={
                "type": "object",
                "properties": {
                    "prompt": {
                        "type": "string",
                        "description": DRAW_PROMPT,
                    }
                },
                "required": ["prompt"],
            },
            timeout_s=DRAW_TIMEOUT_S,
        )

    @property
    def spec(self) -> ToolSpec:
        return self._spec

    def progress(self, arguments: Mapping[str, object]) -> str:
        prompt = " ".join(str(arguments.get("prompt", "")).split())
        if len(prompt) > PROGRESS_PROMPT_CHARS:
            prompt = prompt[: PROGRESS_PROMPT_CHARS - 1] + "…"
        return Texts("en").get("tools.draw_progress", prompt=prompt)

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        prompt = arguments.get("prompt")
        if not isinstance(prompt, str):
            return ToolOutput("`prompt` must be a string.", is_error=True)
        conversation = await self._storage.conversations.conversation(context.key)
        # Budgets are kept per user and per chat: the turn's own, as the limits read them.
        asker = IncomingMessage(
            key=context.key,
            author=Author(context.user_id, "", context.language),
            text="",
            addressed=True,
            is_private=context.is_private,
            space_id=context.space_id,
        )
        return await self._media_out.draw_for_tool(
            asker, conversation.params, prompt, context.is_owner
        )


class BuiltinTools:
    """The ToolSource of the built-in tools above: offered in every chat (each checks the
    chat's own switches when it runs)."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self._tools = tuple(tools)

    def tools(self) -> Sequence[Tool]:
        return self._tools

    def allowed_in(self, context: ToolCallContext) -> bool:
        return True


def builtin_tools(media_out: MediaOut, storage: Storage, image_generation: bool) -> BuiltinTools:
    return BuiltinTools([DrawImage(media_out, storage)] if image_generation else [])
