"""Albums: Telegram sends a media group as one message per photo or file, sharing a
`media_group_id`, in separate updates moments apart, the caption on one of them. The first to
arrive waits until the group has been quiet briefly and carries the whole album as one turn."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from telegram import Message

from core.boundary import IncomingMessage

ALBUM_QUIET_S = 0.5  # an album's updates come in one batch, or within a fraction of a second


@dataclass
class _Album:
    messages: list[Message]
    more: asyncio.Event = field(default_factory=asyncio.Event)


class AlbumCollector:
    def __init__(self, quiet_s: float = ALBUM_QUIET_S) -> None:
        self._quiet_s = quiet_s
        self._open: dict[tuple[int, str], _Album] = {}

    async def collect(self, message: Message) -> list[Message] | None:
        """The album's messages in order, to the call that carries its turn; None to the
        others, whose message joined it."""
        assert message.media_group_id is not None
        key = (message.chat.id, message.media_group_id)
        album = self._open.get(key)
        if album is not None:
            album.messages.append(message)
            album.more.set()
            return None
        album = self._open[key] = _Album([message])
        try:
            while True:
                album.more.clear()
                try:
                    async with asyncio.timeout(self._quiet_s):
                        await album.more.wait()
                except TimeoutError:
                    break
        finally:
            del self._open[key]
        return sorted(album.messages, key=lambda m: m.message_id)


def one_turn(parts: list[IncomingMessage]) -> IncomingMessage:
    """An album's translated messages as one: the captions, every attachment, and addressed when
    any part is (the caption that mentions the bot). The first message's id stands for it."""
    captions = [part.text for part in parts if part.text.strip()]
    return replace(
        parts[0],
        text="\n\n".join(captions),
        addressed=any(part.addressed for part in parts),
        attachments=tuple(a for part in parts for a in part.attachments),
        author=next((p.author for p in parts if p.text.strip()), parts[0].author),
    )
