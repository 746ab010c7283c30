"""Model Markdown → Telegram text + entities, sized to Telegram's limits."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import telegramify_markdown
from telegram import MessageEntity

from bots.chunking import split_message, utf16_len

log = logging.getLogger(__name__)

MAX_UTF16 = 4096  # Telegram's message limit, counted in UTF-16 code units
LINK_SCHEMES = frozenset({"http", "https"})  # tg://user?id=… would mention (ping) a user
# Entities that point at a Telegram user; the model's output must never ping anyone.
MENTIONS = frozenset({MessageEntity.TEXT_MENTION, MessageEntity.MENTION})
# A word of link text that reads as an address: optional scheme, dotted host, maybe a path.
ADDRESS = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^\s/@]+@)?([^\s/:?#@]+\.[a-z]{2,})\.?(?:[:/?#]\S*)?$", re.I
)


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
        text, converted = telegramify_markdown.convert(markdown)
    except Exception:  # a converter bug must not cost the user their answer
        log.warning("markdown conversion failed; sending plain text", exc_info=True)
        return plain(markdown)
    entities = [
        MessageEntity(
            type=e.type,
            offset=e.offset,
            length=e.length,
            url=e.url,
            language=e.language,
            custom_emoji_id=e.custom_emoji_id,
        )
        for e in converted
        if e.length > 0
    ]
    text, entities = safe_links(text, entities)
    if not text.strip() or utf16_len(text) > MAX_UTF16:
        return plain(markdown)
    return Rendered(text=text, entities=tuple(entities))


def safe_links(text: str, entities: Sequence[MessageEntity]) -> tuple[str, list[MessageEntity]]:
    """Model output may link only to the web, and may not disguise where a link goes.

    A link to anything but http(s) becomes plain text, mentions are dropped (nobody is pinged),
    and a link whose text reads as another address than its target gets the real target
    written after it: "google.com (https://evil.example/)".
    """
    kept = [e for e in entities if e.type not in MENTIONS]
    # Right to left, so that inserting text never moves a link still to be looked at.
    for link in sorted(
        (e for e in kept if e.type == MessageEntity.TEXT_LINK), key=lambda e: -e.offset
    ):
        url = link.url or ""
        if _scheme(url) not in LINK_SCHEMES:
            kept.remove(link)
        elif _misleading(_utf16_slice(text, link.offset, link.length), url):
            text, kept = _insert(text, kept, link.offset + link.length, f" ({url})")
    return text, sorted(kept, key=lambda e: e.offset)


def _scheme(url: str) -> str:
    try:
        return urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""


def _host(address: str) -> str:
    host = address.lower().rstrip(".")
    return host.removeprefix("www.")


def _misleading(label: str, url: str) -> bool:
    """Whether a word of the link text names a host other than the one the link opens."""
    try:
        target = _host(urlsplit(url.strip()).hostname or "")
    except ValueError:
        return True
    for word in label.split():
        named = ADDRESS.match(word.strip("()[]<>\"'.,;!?"))
        if named is not None and _host(named.group(1)) != target:
            return True
    return False


def _utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def _insert(
    text: str, entities: list[MessageEntity], at: int, addition: str
) -> tuple[str, list[MessageEntity]]:
    """`addition` inserted at UTF-16 offset `at`; entities after it move, entities around it
    (bold around a link) grow, the link ending there stays as it was."""
    units = text.encode("utf-16-le")
    text = (units[: 2 * at] + addition.encode("utf-16-le") + units[2 * at :]).decode("utf-16-le")
    grown = utf16_len(addition)
    moved: list[MessageEntity] = []
    for e in entities:
        offset, length = e.offset, e.length
        if offset >= at:
            offset += grown
        elif offset + length > at:
            length += grown
        moved.append(_with(e, offset, length))
    return text, moved


def _with(entity: MessageEntity, offset: int, length: int) -> MessageEntity:
    if (offset, length) == (entity.offset, entity.length):
        return entity
    return MessageEntity(
        type=entity.type,
        offset=offset,
        length=length,
        url=entity.url,
        language=entity.language,
        custom_emoji_id=entity.custom_emoji_id,
    )


def plain(text: str) -> Rendered:
    return Rendered(text=text)


COLLAPSED_UTF16 = 3500  # a model's thinking, shown folded: the start of it is enough


def collapsed(text: str) -> Rendered:
    """Text in an expandable blockquote (folded to a few lines until tapped), cut to fit."""
    if utf16_len(text) > COLLAPSED_UTF16:
        text = split_message(text, COLLAPSED_UTF16 - 1, utf16_len)[0].rstrip() + "…"
    quote = MessageEntity(MessageEntity.EXPANDABLE_BLOCKQUOTE, 0, utf16_len(text))
    return Rendered(text=text, entities=(quote,))
