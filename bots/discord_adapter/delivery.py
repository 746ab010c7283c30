"""Every reply event onto Discord: the turn streamed into a channel, notices and command
replies as plain messages, and the answer to a slash command or button press."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from typing import Any, TypeVar

import discord
from discord import app_commands

from bots.chunking import split_message
from bots.discord_adapter.buttons import ChoiceButtons, PressHandler
from bots.discord_adapter.streaming import (
    LIMIT,
    NO_MENTIONS,
    TRANSPORT_ERRORS,
    StreamingMessage,
    channel_id,
    typing_indicator,
)
from bots.discord_adapter.texts import adapter_text
from core.boundary import (
    AnswerDelta,
    AnswerDone,
    Answering,
    Choice,
    CommandReply,
    Failure,
    ImageReply,
    Notice,
    Reasoning,
    ReplyEvent,
    Thinking,
    VoiceReply,
)

log = logging.getLogger(__name__)

PLAIN_ATTEMPTS = 3
REASONING_CHARS = 1800  # a model's thinking, under a spoiler: the start of it is enough
ALREADY_ACKNOWLEDGED = 40060  # an interaction response retried after it did reach Discord

T = TypeVar("T")


async def with_retries(send: Callable[[], Awaitable[T]], where: str) -> T | None:
    """`send()`, tried again after a dropped connection or timeout (discord.py has retried a
    5xx already; a drop it has not). None when a retried interaction response turns out to
    have reached Discord the first time."""
    for attempt in range(PLAIN_ATTEMPTS):
        try:
            return await send()
        except discord.HTTPException as error:
            if attempt > 0 and error.code == ALREADY_ACKNOWLEDGED:
                return None
            raise
        except TRANSPORT_ERRORS as error:
            log.warning("could not send %s (%r)", where, error)
            if attempt + 1 == PLAIN_ATTEMPTS:
                raise
            await asyncio.sleep(2**attempt)
    raise AssertionError("unreachable")


async def stream_into_channel(
    events: AsyncIterator[ReplyEvent],
    channel: Any,
    *,
    on_press: PressHandler,
    edit_interval_s: float,
    reference: discord.Message | None = None,
) -> None:
    """Put every reply event of one turn into `channel`, the answer streamed as it comes.

    "Typing..." shows from the core's `Answering` on, so a message waiting behind others of
    its conversation makes no typing calls.
    """
    stream: StreamingMessage | None = None
    async with AsyncExitStack() as stack:
        try:
            async for event in events:
                if isinstance(event, Answering):
                    await stack.enter_async_context(typing_indicator(channel))
                if isinstance(event, Thinking) and stream is None:
                    # A placeholder where the answer will come; the answer replaces it.
                    stream = StreamingMessage(
                        channel, interval=edit_interval_s, reference=reference
                    )
                    stream.show_placeholder(event.text)
                elif isinstance(event, Thinking) and stream is not None:
                    stream.show_placeholder(event.text)  # a tool's progress after "thinking…"
                elif isinstance(event, Reasoning):
                    if stream is not None and not stream.streamed:
                        # The placeholder message becomes the thinking; the answer follows.
                        await stream.finish(spoiler(event.text))
                        stream = None
                    else:
                        await send_plain(channel, spoiler(event.text))
                if isinstance(event, AnswerDelta | AnswerDone) and stream is None:
                    stream = StreamingMessage(
                        channel, interval=edit_interval_s, reference=reference
                    )
                if isinstance(event, AnswerDelta):
                    assert stream is not None
                    stream.add(event.text)
                elif isinstance(event, AnswerDone):
                    assert stream is not None
                    await stream.finish(event.text)
                    if not stream.delivered:
                        # Discord kept failing: say so rather than leave half an answer unexplained.
                        await send_plain(channel, adapter_text("delivery_failed"))
                    stream = None
                elif isinstance(event, CommandReply):
                    view = ChoiceButtons(event.choices, on_press) if event.choices else None
                    await send_plain(channel, event.text, view=view)
                elif isinstance(event, Notice | Failure):
                    await send_plain(channel, event.text)
                elif isinstance(event, ImageReply | VoiceReply):
                    await send_file(channel.send, event, f"to channel {channel_id(channel)}")
        except asyncio.CancelledError:
            if stream is not None:
                await stream.abort()
            raise
        finally:
            if stream is not None and not stream.finishing:
                # The core stopped without a final answer: keep what was streamed.
                await stream.finish(stream.streamed)


def spoiler(text: str) -> str:
    """A model's thinking, hidden behind a spoiler until clicked, in one message."""
    if len(text) > REASONING_CHARS:
        text = text[: REASONING_CHARS - 1].rstrip() + "…"
    return "💭 ||" + text.replace("||", "| |") + "||"


async def send_plain(
    channel: discord.abc.Messageable, text: str, *, view: discord.ui.View | None = None
) -> None:
    """A notice, command reply or failure: split like answers, never pinging anyone."""
    parts = split_message(text, LIMIT) if text.strip() else []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if last and view is not None:
            kwargs["view"] = view
        try:
            await with_retries(
                partial(channel.send, part, **kwargs), f"to channel {channel_id(channel)}"
            )
        except discord.Forbidden:
            log.warning("no permission to send in channel %s", channel_id(channel))
            return


MEDIA_FILE_NAMES = {"image/png": "image.png", "image/jpeg": "image.jpg", "audio/ogg": "voice.ogg"}


async def send_file(
    send: Callable[..., Awaitable[Any]],
    reply: ImageReply | VoiceReply,
    where: str,
    *,
    captioned: bool = True,
) -> None:
    """A picture or a voice clip as a file attachment (Discord plays an OGG inline), its
    caption as the message's text unless shown already; a new File per attempt, as a retry
    re-reads it."""
    name = MEDIA_FILE_NAMES.get(reply.media_type, "file.bin")
    caption = reply.caption if captioned else ""

    def attempt() -> Awaitable[Any]:
        file = discord.File(io.BytesIO(reply.data), filename=name)
        return send(caption or None, file=file, allowed_mentions=NO_MENTIONS)

    try:
        await with_retries(attempt, where)
    except discord.Forbidden:
        log.warning("no permission to send a file %s", where)


async def respond_to_interaction(
    interaction: discord.Interaction,
    events: list[ReplyEvent],
    *,
    deferred: bool,
    on_press: PressHandler,
) -> None:
    """Answer a slash command or button press with its reply events, in 2000-character parts.

    A `deferred` interaction already shows "thinking...": its original response is edited.
    """
    body, private, choices = render_for_interaction(events, interaction.locale)
    view = ChoiceButtons(choices, on_press) if choices else None
    parts = split_message(body, LIMIT)
    first: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if view is not None and len(parts) == 1:
        first["view"] = view
    where = f"the response to interaction {interaction.id}"
    if deferred:
        await with_retries(
            partial(interaction.edit_original_response, content=parts[0], **first), where
        )
    else:
        await with_retries(
            partial(interaction.response.send_message, parts[0], ephemeral=private, **first),
            where,
        )
    for index, part in enumerate(parts[1:], start=1):
        extra: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if view is not None and index == len(parts) - 1:
            extra["view"] = view
        await with_retries(
            partial(interaction.followup.send, part, ephemeral=private, **extra), where
        )
    for event in events:
        if isinstance(event, ImageReply | VoiceReply):
            # Its caption is in the response above: the follow-up carries the file alone.
            await send_file(interaction.followup.send, event, where, captioned=False)


def render_for_interaction(
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
        elif isinstance(event, Reasoning):
            shown.append(spoiler(event.text))
        elif isinstance(event, ImageReply | VoiceReply):
            shown.append(event.caption)  # the file itself follows (respond_to_interaction)
    body = "\n\n".join(part for part in shown if part.strip())
    if not body and any(isinstance(event, ImageReply | VoiceReply) for event in events):
        return adapter_text("media_follows", locale), private, choices
    if not body:
        return adapter_text("nothing", locale), True, ()
    return body, private, choices


async def report_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """A failing slash command: the traceback goes to the log, a short apology to the user only."""
    log.error("slash command failed", exc_info=error)
    message = adapter_text("error", interaction.locale)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not report the failure to the user", exc_info=True)
