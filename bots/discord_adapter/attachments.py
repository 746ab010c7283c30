"""Discord attachments → the core's Attachments: every file of a message, voice messages
included (OGG/Opus with a duration). Bytes come from Discord's CDN only when the core asks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import discord

from core.boundary import Attachment, FetchFailed, TooLarge, kind_of, media_type_of


def attachments_of(message: discord.Message) -> tuple[Attachment, ...]:
    return tuple(_translated(attachment) for attachment in message.attachments)


def _translated(attachment: discord.Attachment) -> Attachment:
    media_type = media_type_of(attachment.filename, attachment.content_type)
    voice = attachment.is_voice_message()
    return Attachment(
        kind="voice" if voice else kind_of(media_type),
        media_type=media_type,
        size=attachment.size,
        file_name=attachment.filename,
        fetch=_fetch_of(attachment),
        duration_s=attachment.duration,
    )


def _fetch_of(attachment: discord.Attachment) -> Callable[[int], Awaitable[bytes]]:
    async def fetch(max_bytes: int) -> bytes:
        if attachment.size > max_bytes:
            raise TooLarge()
        try:
            data = await attachment.read()
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise FetchFailed(type(error).__name__) from None
        if len(data) > max_bytes:
            raise TooLarge()
        return data

    return fetch
