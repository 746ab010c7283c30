"""Images and speech out, as turns: /image draws, /speak says, and a chat with /voice on hears
each answer too. Each is refused in one line when turned off (by the owner, or in the chat) and,
for what would cross a budget in dollars, before the provider is asked: unlike a chat answer, an
image's or a spoken text's whole price is known up front.

An image's prompt and a line describing what was drawn are stored as a question and its answer,
so the conversation can refer to the picture; nothing is stored when it fails. What was made is
counted in usage (kind "image" or "speech") and so in budgets. Media bytes are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from core.boundary import (
    Answering,
    CommandReply,
    Failure,
    ImageReply,
    IncomingMessage,
    Notice,
    ReplyEvent,
    VoiceReply,
)
from core.media.image_generation import ImageGenerator, ImageRefused
from core.media.out_params import MediaOutOptions, image_choice, speech_choice
from core.media.speech import MAX_INPUT_CHARS, SPEECH_MEDIA_TYPE, Synthesizer, speakable
from core.model.params import ChatParams
from core.model.provider_errors import ProviderError
from core.policy.limits import AbuseLimits, Refusal, refusal_text
from core.storage.records import ConversationState, NewMessage, UsageRecord
from core.storage.stores import Storage
from core.texts import Texts
from core.tokens import count_message
from core.tools.base import ToolOutput
from core.turn.user_input import fit_input, storable_text

log = logging.getLogger("core.turn")

CAPTION_PROMPT_CHARS = 200  # the prompt under the picture; all of it is stored
DESCRIPTION_CHARS = 400  # the provider's revised prompt, stored as what was drawn
STORED_INPUT_BUDGET = 1_000_000  # a prompt is never cut: the endpoint refuses a too long one


class MediaOut:
    def __init__(
        self,
        options: MediaOutOptions,
        images: ImageGenerator | None,
        synthesizer: Synthesizer | None,
        storage: Storage,
        limits: AbuseLimits | None,  # None: no budgets
    ) -> None:
        self._options = options
        self._images = images
        self._synthesizer = synthesizer
        self._storage = storage
        self._limits = limits

    def refusal(
        self, command: str, args: str, params: ChatParams, texts: Texts
    ) -> CommandReply | None:
        """Why /image or /speak cannot run here at all (turned off, nothing asked); None to run."""
        config = self._options.config
        if command == "image":
            if not config.image_generation_enabled or self._images is None:
                return texts.error("image.off")
            if params.image_generation is False:
                return texts.error("image.off_chat")
            return None if args.strip() else texts.error("image.usage")
        if not config.speech_enabled or self._synthesizer is None:
            return texts.error("speech.off")
        if params.speech is False:
            return texts.error("speech.off_chat")
        return None if args.strip() else texts.error("speak.usage")

    async def image(
        self,
        message: IncomingMessage,
        texts: Texts,
        conversation: ConversationState,
        prompt: str,
        encoding: str,
        is_owner: bool,
    ) -> AsyncIterator[ReplyEvent]:
        assert self._images is not None  # refused before otherwise
        if message.message_id and await self._storage.messages.has_delivery(
            conversation.id, message.message_id
        ):
            # A redelivered update whose picture was made (a failed one stored nothing, so it
            # is drawn now): drawing again would charge twice.
            log.info("a redelivered /image in %s was drawn already", message.key)
            return
        prompt = storable_text(prompt.strip())
        choice = image_choice(conversation.params, self._options.config, self._options.images)
        over = await self._over_budget(message, is_owner, choice.cost_usd)
        if over is not None:
            yield Failure(refusal_text(over, texts))
            return
        yield Answering()
        try:
            image = await self._images.generate(prompt, choice.model, choice.size, choice.quality)
        except ImageRefused as refused:
            log.info(
                "image refused by the provider's safety system for %s (%s)", message.key, refused
            )
            yield Failure(texts.get("image.refused"))
            return
        except ProviderError as error:
            log.warning(
                "image generation failed for %s: %s", message.key, error.detail or error.kind
            )
            yield Failure(texts.get("image.failed"))
            return
        usage = _usage(message, choice.model.name, choice.cost_usd, "image", 1)
        described = ""
        if image.revised_prompt:
            description = _clip(storable_text(image.revised_prompt), DESCRIPTION_CHARS)
            described = texts.get("image.described", description=description)
        answer = texts.get(
            "image.stored", model=choice.model.name, size=choice.size, described=described
        )
        await self._store(
            message, conversation, texts.get("image.asked", prompt=prompt), answer, usage, encoding
        )
        caption = texts.get("image.caption", prompt=_clip(prompt, CAPTION_PROMPT_CHARS))
        yield ImageReply(image.data, image.media_type, caption)

    async def draw_for_tool(
        self, message: IncomingMessage, params: ChatParams, prompt: str, is_owner: bool
    ) -> ToolOutput:
        """/image as the model's tool: the same checks, model and price; the picture goes to
        the chat and the words back to the model (stored as the tool's result, not as a
        question and answer of their own)."""
        config = self._options.config
        if not config.image_generation_enabled or self._images is None:
            return ToolOutput("Image generation is turned off for this bot.", is_error=True)
        if params.image_generation is False:
            return ToolOutput("Image generation is turned off in this chat.", is_error=True)
        prompt = storable_text(prompt.strip())
        if not prompt:
            return ToolOutput("Say what to draw in `prompt`.", is_error=True)
        choice = image_choice(params, config, self._options.images)
        over = await self._over_budget(message, is_owner, choice.cost_usd)
        if over is not None:
            return ToolOutput("The user's budget does not allow another image.", is_error=True)
        try:
            image = await self._images.generate(prompt, choice.model, choice.size, choice.quality)
        except ImageRefused:
            log.info("image refused by the provider's safety system for %s", message.key)
            return ToolOutput("The image service's safety system refused this.", is_error=True)
        except ProviderError as error:
            log.warning("image tool failed for %s: %s", message.key, error.detail or error.kind)
            return ToolOutput("The image service failed.", is_error=True)
        usage = _usage(message, choice.model.name, choice.cost_usd, "image", 1)
        described = ""
        if image.revised_prompt:
            described = (
                f" Drawn as: {_clip(storable_text(image.revised_prompt), DESCRIPTION_CHARS)}"
            )
        caption = _clip(prompt, CAPTION_PROMPT_CHARS)
        return ToolOutput(
            f"The picture ({choice.model.name}, {choice.size}) was sent to the chat.{described}",
            replies=(ImageReply(image.data, image.media_type, f"🎨 {caption}"),),
            usage=(usage,),
        )

    async def speak(
        self,
        message: IncomingMessage,
        texts: Texts,
        conversation: ConversationState,
        text: str,
        is_owner: bool,
    ) -> AsyncIterator[ReplyEvent]:
        model, _ = speech_choice(conversation.params, self._options.config, self._options.speech)
        spoken, _ = speakable(text)
        over = await self._over_budget(message, is_owner, model.cost_usd(len(spoken)))
        if over is not None:
            yield Failure(refusal_text(over, texts))
            return
        yield Answering()
        async for event in self._say(message, texts, conversation, text, after_answer=False):
            yield event

    async def voice_for_answer(
        self, message: IncomingMessage, texts: Texts, conversation: ConversationState, answer: str
    ) -> AsyncIterator[ReplyEvent]:
        """The answer spoken too, for a chat with /voice on; nothing when speech is off."""
        params = conversation.params
        if not params.voice_replies or not answer.strip() or self._synthesizer is None:
            return
        if not self._options.config.speech_enabled or params.speech is False:
            return
        async for event in self._say(message, texts, conversation, answer, after_answer=True):
            yield event

    async def _say(
        self,
        message: IncomingMessage,
        texts: Texts,
        conversation: ConversationState,
        text: str,
        *,
        after_answer: bool,
    ) -> AsyncIterator[ReplyEvent]:
        assert self._synthesizer is not None
        model, voice = speech_choice(
            conversation.params, self._options.config, self._options.speech
        )
        spoken, cut = speakable(text)
        try:
            audio = await self._synthesizer.speak(spoken, model.name, voice)
        except ProviderError as error:
            log.warning("speech failed for %s: %s", message.key, error.detail or error.kind)
            failed = texts.get("speech.failed")
            # After an answer the turn itself went well: a notice, not a failure.
            yield Notice(failed) if after_answer else Failure(failed)
            return
        usage = _usage(message, model.name, model.cost_usd(len(spoken)), "speech", len(spoken))
        await self._storage.usage.add_usage(conversation.id, [usage])
        if cut:
            yield Notice(texts.get("speech.cut", chars=len(spoken), limit=MAX_INPUT_CHARS))
        yield VoiceReply(audio, SPEECH_MEDIA_TYPE)

    async def _over_budget(
        self, message: IncomingMessage, is_owner: bool, cost: float
    ) -> Refusal | None:
        if self._limits is None:
            return None
        return await self._limits.would_cross(message, is_owner, cost)

    async def _store(
        self,
        message: IncomingMessage,
        conversation: ConversationState,
        asked: str,
        answer: str,
        usage: UsageRecord,
        encoding: str,
    ) -> None:
        """The request and what was made, as a question and its answer, with what it cost."""
        messages = self._storage.messages
        fitted = await fit_input(message, asked, encoding, STORED_INPUT_BUDGET)
        stored_id = await messages.add_message(conversation.id, fitted.stored_as(message, encoding))
        stored_answer = None
        if stored_id is not None:  # not a redelivery
            stored_answer = NewMessage(
                role="assistant",
                content=answer,
                tokens=count_message("assistant", answer, encoding),
                encoding=encoding,
            )
        await messages.complete_turn(conversation.id, stored_answer, usage)
        # The question went in without the window's read: let the next turn read it afresh.
        messages.windows.forget(conversation.id)


def _usage(
    message: IncomingMessage, model: str, cost: float, kind: str, quantity: float
) -> UsageRecord:
    return UsageRecord(
        user_id=message.author.user_id,
        model=model,
        prompt_tokens=0,
        cached_tokens=0,
        completion_tokens=0,
        cost_usd=cost,
        kind=kind,
        quantity=quantity,
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
