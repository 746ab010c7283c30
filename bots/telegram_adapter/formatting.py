"""Model Markdown → Telegram text + entities, sized to Telegram's limits."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import telegramify_markdown
from telegram import MessageEntity

from bots.chunking import split_message, utf16_len

log = logging.getLogger(__name__)

MAX_UTF16 = 4096  # Telegram's message limit, counted in UTF-16 code units


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one Telegram message shows: text plus entities (empty for plain text)."""

    text: str
    entities: tuple[MessageEntity, ...] = ()

    @property
    def is_plain(self) -> bool:
        return not self.entities


def split_for_telegram(markdown: str) -> list[str]:
    """The answer's Markdown in message-sized parts; joining them gives back every character."""
    return [part for part in split_message(markdown, MAX_UTF16, utf16_len) if part.strip()]


def render(markdown: str) -> Rendered:
    """Formatted when the converter manages it within the limit, else the Markdown as typed.

    The plain fallback is the part itself, which `split_for_telegram` already sized, so a
    conversion that grows the text (list bullets, table padding) can never lose anything.
    """
    try:
        text, entities = telegramify_markdown.convert(markdown)
    except Exception:  # a converter bug must not cost the user their answer
        log.warning("markdown conversion failed; sending plain text", exc_info=True)
        return plain(markdown)
    if not text.strip() or utf16_len(text) > MAX_UTF16:
        return plain(markdown)
    return Rendered(
        text=text,
        entities=tuple(
            MessageEntity(
                type=e.type,
                offset=e.offset,
                length=e.length,
                url=e.url,
                language=e.language,
                custom_emoji_id=e.custom_emoji_id,
            )
            for e in entities
            if e.length > 0
        ),
    )


def plain(text: str) -> Rendered:
    return Rendered(text=text)
