"""What came with a message (files, voice notes, photos) read into the user's text, before the
turn stores it. Every refusal is one line, decided before anything is fetched when the platform
reported enough (kind, size, duration), and nothing of a refused message is stored.

Files become text after the caption, each under its name, and are then counted and cut like any
text; voice notes and audio files become what was said, shown to the user as heard. What a
transcription cost is kept even when a later step fails: it was spent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.boundary import (
    Attachment,
    Choice,
    CommandReply,
    Failure,
    IncomingMessage,
    Notice,
    TooLarge,
)
from core.media.files import Unreadable, file_text, readable_as
from core.media.images import NotAnImage, PreparedImage, prepare_image
from core.media.transcription import (
    DEFAULT_TRANSCRIPTION_MODEL,
    ENDPOINT_MAX_BYTES,
    Transcriber,
    TranscriptionPrices,
)
from core.model.image_tokens import ImageRule
from core.model.params import ChatParams
from core.model.provider_errors import ProviderError
from core.storage.records import UsageRecord
from core.texts import Texts

log = logging.getLogger("core.turn")

MB = 1024 * 1024
TRANSCRIPT_SHOWN_CHARS = 300  # the transcript quoted back to the user; all of it is stored
# A recording whose length no one reported is priced as if it were this many bytes a second
# (Telegram's voice notes run at 2-4 kB/s): an estimate on the high side, for budgets.
BYTES_PER_SECOND_ESTIMATE = 2000


@dataclass(frozen=True, slots=True)
class MediaConfig:
    """The owner's switches and limits (FILES_ENABLED, VOICE_ENABLED, MAX_*)."""

    files_enabled: bool = True
    voice_enabled: bool = True
    max_file_bytes: int = 10 * MB
    max_voice_bytes: int = 25 * MB
    max_voice_s: float = 600.0  # 0 = no limit
    transcription_model: str = DEFAULT_TRANSCRIPTION_MODEL
    images_enabled: bool = True
    max_image_bytes: int = 20 * MB


MAX_MODEL_CHOICES = 5  # buttons offered when the chat's model cannot see a photo


@dataclass(frozen=True, slots=True)
class Vision:
    """What the chat's model makes of photos: `rule` None when it reads none."""

    model: str
    rule: ImageRule | None
    detail: str  # the chat's image_detail: "low" | "high" | "auto"


@dataclass(slots=True)
class ReadMessage:
    """The message as the model will read it, or the one line that refuses it."""

    text: str = ""
    failure: Failure | CommandReply | None = None
    images: list[PreparedImage] = field(default_factory=list)
    heard: list[Notice] = field(default_factory=list)  # transcripts, shown before the answer
    spent: list[UsageRecord] = field(default_factory=list)  # transcriptions, kept in any case
    cut: bool = False  # a file was longer than this turn could send


class AttachmentReader:
    def __init__(
        self,
        config: MediaConfig,
        transcriber: Transcriber | None,
        prices: TranscriptionPrices | None = None,
        seeing_models: Callable[[], Awaitable[list[str]]] | None = None,
    ) -> None:
        self._config = config
        self._transcriber = transcriber
        self._prices = prices or TranscriptionPrices({})
        self._seeing_models = seeing_models

    async def read(
        self,
        message: IncomingMessage,
        texts: Texts,
        max_chars: int,
        vision: Vision | None = None,
        params: ChatParams | None = None,
    ) -> ReadMessage:
        """The caption followed by what each attachment says; `max_chars` bounds a file's text
        before it is counted (counting a 10 MB file only to cut it would take seconds). Photos
        are prepared for `vision`, the chat's model, and kept apart from the text. `params`
        are the chat's, whose switches may refuse a kind the owner allows."""
        params = params or ChatParams()
        for attachment in message.attachments:
            if attachment.kind == "image":
                refused = await self._image_refusal(attachment, texts, vision, params)
                if refused is not None:
                    return ReadMessage(failure=refused)
                continue
            refusal = self._refusal(attachment, texts, params)
            if refusal is not None:
                return ReadMessage(failure=Failure(refusal))
        read = ReadMessage()
        parts = [message.text.strip()] if message.text.strip() else []
        for attachment in message.attachments:
            data = await self._fetch(attachment, texts, read)
            if data is None:
                return read
            if attachment.kind in ("voice", "audio"):
                said = await self._transcribe(attachment, data, message, texts, read)
                if said is None:
                    return read
                parts.append(said)
            elif attachment.kind == "image":
                assert vision is not None and vision.rule is not None  # refused otherwise
                image = await self._image(attachment, data, vision.rule, vision.detail, read)
                if image is None:
                    read.failure = Failure(
                        texts.get("vision.unreadable", name=attachment.file_name[:64])
                    )
                    return read
            else:
                body = await self._file_text(attachment, data, texts, read, max_chars)
                if body is None:
                    return read
                parts.append(f"[file: {attachment.file_name}]\n{body}")
        read.text = "\n\n".join(parts)
        return read

    def _refusal(self, attachment: Attachment, texts: Texts, params: ChatParams) -> str | None:
        """Why this attachment is not read, from what the platform reported; None to read it."""
        config = self._config
        name = attachment.file_name[:64]
        if attachment.kind == "video":
            return texts.get("media.video_unsupported")
        if attachment.kind in ("voice", "audio"):
            if not config.voice_enabled or self._transcriber is None:
                return texts.get("media.voice_off")
            if params.voice_notes is False:
                return texts.get("media.voice_off_chat")
            limit = min(config.max_voice_bytes, ENDPOINT_MAX_BYTES)
            if attachment.size is not None and attachment.size > limit:
                return texts.get("media.too_large", name=name, limit=_mb(limit))
            seconds = attachment.duration_s
            if config.max_voice_s and seconds is not None and seconds > config.max_voice_s:
                return texts.get("media.too_long", minutes=_minutes(config.max_voice_s))
            return None
        if not config.files_enabled:
            return texts.get("media.files_off")
        if params.files is False:
            return texts.get("media.files_off_chat")
        if readable_as(attachment.media_type, attachment.file_name) is None:
            return texts.get("media.file_unsupported", name=name)
        if attachment.size is not None and attachment.size > config.max_file_bytes:
            return texts.get("media.too_large", name=name, limit=_mb(config.max_file_bytes))
        return None

    async def _image_refusal(
        self, attachment: Attachment, texts: Texts, vision: Vision | None, params: ChatParams
    ) -> Failure | CommandReply | None:
        """Why this photo is not read; a model that cannot see it gets the chat's choices of
        models that can (buttons where the platform has them)."""
        if not self._config.images_enabled or vision is None:
            return Failure(texts.get("vision.off"))
        if params.photos is False:
            return Failure(texts.get("vision.off_chat"))
        limit = self._config.max_image_bytes
        if attachment.size is not None and attachment.size > limit:
            name = attachment.file_name[:64]
            return Failure(texts.get("media.too_large", name=name, limit=_mb(limit)))
        if vision.rule is not None:
            return None
        seeing = (await self._seeing_models())[:MAX_MODEL_CHOICES] if self._seeing_models else []
        if not seeing:
            return Failure(texts.get("vision.model_none", model=vision.model))
        return CommandReply(
            texts.get("vision.model_cannot", model=vision.model, models=", ".join(seeing)),
            choices=tuple(Choice(name, f"/model {name}") for name in seeing),
            is_error=True,
        )

    async def _image(
        self,
        attachment: Attachment,
        data: bytes,
        rule: ImageRule,
        detail: str,
        read: ReadMessage,
    ) -> PreparedImage | None:
        try:
            # Decoding and resizing a 12-megapixel photo holds the CPU for tens of ms.
            image = await asyncio.to_thread(prepare_image, data, rule, detail)
        except NotAnImage:
            return None
        read.images.append(image)
        return image

    def _limit(self, attachment: Attachment) -> int:
        if attachment.kind == "image":
            return self._config.max_image_bytes
        if attachment.kind in ("voice", "audio"):
            return min(self._config.max_voice_bytes, ENDPOINT_MAX_BYTES)
        return self._config.max_file_bytes

    async def _fetch(self, attachment: Attachment, texts: Texts, read: ReadMessage) -> bytes | None:
        name = attachment.file_name[:64]
        limit = self._limit(attachment)
        try:
            return await attachment.fetch(limit)
        except TooLarge:
            read.failure = Failure(texts.get("media.too_large", name=name, limit=_mb(limit)))
        except Exception as error:  # FetchFailed, or whatever a platform raised
            # The type only: a platform's error text may quote a file URL, which on Telegram
            # holds the bot token.
            log.warning("could not fetch an attachment (%s)", type(error).__name__)
            read.failure = Failure(texts.get("media.fetch_failed", name=name))
        return None

    async def _transcribe(
        self,
        attachment: Attachment,
        audio: bytes,
        message: IncomingMessage,
        texts: Texts,
        read: ReadMessage,
    ) -> str | None:
        assert self._transcriber is not None  # refused before the fetch otherwise
        try:
            transcript = await self._transcriber.transcribe(
                audio, attachment.file_name, attachment.media_type, message.author.language
            )
        except ProviderError as error:
            log.warning("transcription failed for %s: %s", message.key, error.detail or error.kind)
            read.failure = Failure(texts.get("voice.failed"))
            return None
        reported = transcript.seconds or attachment.duration_s
        seconds = reported if reported is not None else len(audio) / BYTES_PER_SECOND_ESTIMATE
        model = self._config.transcription_model
        read.spent.append(
            UsageRecord(
                user_id=message.author.user_id,
                model=model,
                prompt_tokens=0,
                cached_tokens=0,
                completion_tokens=0,
                cost_usd=self._prices.cost_usd(model, seconds),
                kind="transcription",
                quantity=seconds,
            )
        )
        if not transcript.text:
            read.failure = Failure(texts.get("voice.empty"))
            return None
        if (
            self._config.max_voice_s
            and reported is not None
            and reported > self._config.max_voice_s
        ):
            # Only now known (the platform did not say): paid for, but not answered.
            read.failure = Failure(
                texts.get("media.too_long", minutes=_minutes(self._config.max_voice_s))
            )
            return None
        shown = transcript.text
        if len(shown) > TRANSCRIPT_SHOWN_CHARS:
            shown = shown[:TRANSCRIPT_SHOWN_CHARS].rstrip() + "…"
        read.heard.append(Notice(texts.get("voice.transcript", text=shown)))
        return transcript.text

    async def _file_text(
        self,
        attachment: Attachment,
        data: bytes,
        texts: Texts,
        read: ReadMessage,
        max_chars: int,
    ) -> str | None:
        name = attachment.file_name[:64]
        readable = readable_as(attachment.media_type, attachment.file_name)
        assert readable is not None  # refused before the fetch otherwise
        try:
            # pypdf and big decodes hold the CPU: other chats go on meanwhile.
            text, cut = await asyncio.to_thread(file_text, data, readable, max_chars)
        except Unreadable as error:
            read.failure = Failure(texts.get(f"media.{error.reason}", name=name))
            return None
        read.cut = read.cut or cut
        return text.rstrip()  # a file's last newlines say nothing


def _mb(limit: int) -> str:
    return f"{limit / MB:.3g}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g}"
