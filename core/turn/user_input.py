"""The user's input as the core stores and counts it: text cleaned of what no database accepts
and cut to fit the history budget, photos as stored with their message."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass, replace
from functools import lru_cache

from core.boundary import Author, IncomingMessage
from core.media.images import PreparedImage
from core.model.catalog import ModelSpec
from core.storage.records import NewImage, NewMessage
from core.tokens import count_message, truncate_text
from core.turn.attachments import Vision
from core.turn.prompt_plan import PromptPlan

MAX_NAME_CHARS = 128  # the author_name column
CUT_MARKER = " […]"
LARGE_TEXT_CHARS = 20_000


def storable_text(text: str) -> str:
    """`text` without NUL characters and with lone surrogates replaced by U+FFFD.

    PostgreSQL rejects NUL in text columns, and neither database (nor tiktoken) can encode a
    lone UTF-16 surrogate, which JSON from a platform may still carry.
    """
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


@dataclass(frozen=True, slots=True)
class FittedInput:
    """The user's message as stored: its content, exact prompt tokens, and whether it was cut."""

    content: str
    tokens: int
    was_cut: bool

    def stored_as(
        self, message: IncomingMessage, encoding: str, images: tuple[NewImage, ...] = ()
    ) -> NewMessage:
        return NewMessage(
            role="user",
            content=self.content,
            tokens=self.tokens + sum(image.tokens for image in images),
            encoding=encoding,
            author_id=message.author.user_id,
            author_name=None if message.is_private else message.author.display_name,
            platform_message_id=message.message_id or None,
            images=images,
        )


async def fit_input(message: IncomingMessage, text: str, encoding: str, budget: int) -> FittedInput:
    """`text` within `budget` tokens, framing and the group's name prefix included."""
    if len(text) > LARGE_TEXT_CHARS:
        # Tokenizing a huge paste takes seconds (long runs without spaces are the worst);
        # tiktoken releases the GIL, so other chats keep being answered meanwhile.
        return await asyncio.to_thread(_fit, message, text, encoding, budget)
    return _fit(message, text, encoding, budget)


def _fit(message: IncomingMessage, text: str, encoding: str, budget: int) -> FittedInput:
    name = None if message.is_private else message.author.display_name
    prefix = f"{name}: " if name else ""
    tokens = count_message("user", prefix + text, encoding)
    if tokens <= budget:
        return FittedInput(text, tokens, was_cut=False)
    overhead = count_message("user", prefix + CUT_MARKER, encoding)
    content = truncate_text(text, max(budget - overhead, 0), encoding) + CUT_MARKER
    tokens = count_message("user", prefix + content, encoding)
    while tokens > budget and len(content) > len(CUT_MARKER):
        # Re-joining the marker can merge tokens differently; shave until it fits exactly.
        content = content[: -len(CUT_MARKER) - 1] + CUT_MARKER
        tokens = count_message("user", prefix + content, encoding)
    return FittedInput(content, tokens, was_cut=True)


@lru_cache(maxsize=1024)
def vision_of(plan: PromptPlan) -> Vision:
    caps = plan.spec.caps
    rule = caps.image_tokens if caps.images else None
    return Vision(plan.spec.name, rule, plan.params.image_detail or "auto")


def stored_image(image: PreparedImage, spec: ModelSpec) -> NewImage:
    """A photo prepared for the chat's model, as stored with its message."""
    rule = spec.caps.image_tokens
    return NewImage(
        image.data,
        image.media_type,
        image.width,
        image.height,
        image.detail,
        image.tokens,
        "" if rule is None else rule.key,
    )


def user_hash(salt: bytes, platform: str, user_id: str) -> str:
    identity = f"{platform}:{user_id}".encode()
    return hmac.new(salt, identity, hashlib.sha256).hexdigest()[:32]
