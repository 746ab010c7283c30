"""Telegram media → the core's Attachments: photos (the largest size within the core's cap),
voice notes, audio, video notes and videos, documents. Bytes are fetched only when the core asks
(`getFile`, then the download); the file URL holds the bot token, so it never leaves PTB's
request object and no error raised here quotes it."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, TypeAlias

from telegram import Animation, Audio, Document, Message, PhotoSize, Video, VideoNote, Voice
from telegram.error import TelegramError

from core.boundary import Attachment, AttachmentKind, FetchFailed, TooLarge, kind_of, media_type_of

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

DOWNLOAD_TIMEOUT_S = 60.0  # reading a 20 MB file over a slow link

Medium: TypeAlias = PhotoSize | Voice | Audio | Document | Video | VideoNote | Animation


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """What the message carries besides its text, in the core's terms."""
    found: list[Attachment] = []
    if message.photo:
        largest = message.photo[-1]
        found.append(
            Attachment(
                kind="image",
                media_type="image/jpeg",  # Telegram re-encodes every photo as JPEG
                size=largest.file_size,
                file_name="photo.jpg",
                fetch=largest_within(message.photo),
            )
        )
    if message.voice is not None:
        voice = message.voice
        found.append(
            _one(
                "voice",
                voice,
                "voice.ogg",  # OGG/Opus; the transcription endpoint tells formats by extension
                media_type_of("voice.ogg", voice.mime_type),
                duration=voice.duration,
            )
        )
    if message.audio is not None:
        audio = message.audio
        name = audio.file_name or "audio.mp3"
        media_type = media_type_of(name, audio.mime_type)
        found.append(_one("audio", audio, name, media_type, duration=audio.duration))
    for video in (message.video, message.video_note, message.animation):
        if video is not None:
            name = getattr(video, "file_name", None) or "video.mp4"
            found.append(_one("video", video, name, media_type_of(name, None)))
    if message.document is not None and message.animation is None:
        document = message.document
        name = document.file_name or "file"
        media_type = media_type_of(name, document.mime_type)
        found.append(_one(kind_of(media_type), document, name, media_type))
    return tuple(found)


def _one(
    kind: AttachmentKind,
    medium: Medium,
    name: str,
    media_type: str,
    *,
    duration: int | timedelta | None = None,
) -> Attachment:
    return Attachment(
        kind=kind,
        media_type=media_type,
        size=medium.file_size,
        file_name=name,
        fetch=largest_within([medium]),
        duration_s=_seconds(duration),
    )


def _seconds(duration: int | timedelta | None) -> float | None:
    """PTB gives durations as timedelta once PTB_TIMEDELTA is set (startup.py sets it)."""
    if duration is None:
        return None
    if isinstance(duration, timedelta):
        return duration.total_seconds()
    return float(duration)


def largest_within(sizes: Sequence[Medium]) -> Callable[[int], Awaitable[bytes]]:
    """A fetch of the largest of `sizes` (one photo's sizes, smallest first; or one file) that
    Telegram says fits in the core's cap."""

    async def fetch(max_bytes: int) -> bytes:
        fitting = [s for s in sizes if s.file_size is None or s.file_size <= max_bytes]
        if not fitting:
            raise TooLarge()
        try:
            file = await fitting[-1].get_file()
            if file.file_size is not None and file.file_size > max_bytes:
                raise TooLarge()
            received = Received()
            await file.download_to_memory(received, read_timeout=DOWNLOAD_TIMEOUT_S)
            data = received.data()
        except TelegramError as error:
            if "too big" in str(error).lower():  # over the Bot API's 20 MB download limit
                raise TooLarge() from None
            raise FetchFailed(type(error).__name__) from None
        if len(data) > max_bytes:
            raise TooLarge()
        return data

    return fetch


class Received(io.BytesIO):
    """`download_to_memory`'s `out`, keeping what PTB writes as it is: the body arrives as one
    bytes object, which a BytesIO or `download_as_bytearray` would copy (and the core wants
    bytes, a second copy of a bytearray) — up to three 20 MB buffers per voice note at once."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def write(self, buffer: ReadableBuffer, /) -> int:
        part = bytes(buffer)  # the same object when it is bytes already
        self._parts.append(part)
        return len(part)

    def data(self) -> bytes:
        """Everything written; the one part itself when there was one (join returns it)."""
        return b"".join(self._parts)
