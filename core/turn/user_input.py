"""Text every database accepts: PostgreSQL rejects NUL in text columns, and neither database
(nor tiktoken) can encode a lone UTF-16 surrogate, which JSON from a platform may still carry."""

from __future__ import annotations

from dataclasses import replace

from core.boundary import Author, IncomingMessage

MAX_NAME_CHARS = 128  # the author_name column


def storable_text(text: str) -> str:
    """`text` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if any("\ud800" <= char <= "\udfff" for char in text):
        # A round trip through UTF-16 pairs up what belongs together and replaces the rest.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def storable_message(message: IncomingMessage) -> IncomingMessage:
    """The message as the core may store and count it (the same object when nothing changes)."""
    text = storable_text(message.text)
    name = storable_text(message.author.display_name)[:MAX_NAME_CHARS]
    if text == message.text and name == message.author.display_name:
        return message
    author: Author = replace(message.author, display_name=name)
    return replace(message, text=text, author=author)
