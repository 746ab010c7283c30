"""Reading a turn's window from storage, and how a stored message is sent to the model."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from typing import Any

from core.model.catalog import ModelSpec
from core.model.image_tokens import ImageRule
from core.storage.messages import MessageStore
from core.storage.records import ConversationState, StoredImage, StoredMessage
from core.tokens import count_message, count_text, count_tool_calls
from core.turn.window import Window, choose_window, rows_to_read


def message_text(message: StoredMessage) -> str:
    """A stored message's text as sent; group messages carry their author's name."""
    if message.role == "user" and message.author_name:
        return f"{message.author_name}: {message.content}"
    return message.content


def prompt_message(message: StoredMessage) -> dict[str, Any]:
    """A stored message as the model receives it: its images (those counted for this model,
    see `read_window`) as image parts after the text, as data URLs (never a platform URL)."""
    if message.tool_call_id is not None:
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.tool_calls is not None:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": _calls(message.tool_calls),
        }
    text = message_text(message)
    images = [image for image in message.images if image.counted_for]
    if not images:
        return {"role": message.role, "content": text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [
        {"type": "image_url", "image_url": {"url": image.data_url, "detail": image.detail}}
        for image in images
    ]
    return {"role": message.role, "content": parts}


@lru_cache(maxsize=4096)
def _calls(stored: str) -> list[Any]:
    """A stored `tool_calls` array, parsed once while its message stays in recent windows (the
    request is serialized, never changed, so one parsed list serves every turn)."""
    calls: list[Any] = json.loads(stored)
    return calls


def stored_tokens(message: StoredMessage, encoding: str) -> int:
    """A stored message's tokens in `encoding`: its text, its tool calls or the call its result
    answers, and its images as counted already."""
    tokens = count_message(message.role, message_text(message), encoding)
    tokens += sum(image.tokens for image in message.images)
    if message.tool_calls is not None:
        calls = json.loads(message.tool_calls)
        pairs = [(call["function"]["name"], call["function"]["arguments"]) for call in calls]
        tokens += count_tool_calls(pairs, encoding)
    if message.tool_call_id is not None:
        tokens += count_text(message.tool_call_id, encoding)
    return tokens


def image_rule_key(spec: ModelSpec) -> str:
    rule = spec.caps.image_tokens if spec.caps.images else None
    return "" if rule is None else rule.key


async def read_window(
    messages: MessageStore,
    conversation: ConversationState,
    spec: ModelSpec,
    budget: int,
    low_watermark_share: float,
    newest_first: list[StoredMessage] | None = None,
) -> Window:
    """The stored messages this turn sends, within the budget only.

    `newest_first` are the rows read with the user's message (`add_message_and_read`); the
    rare turns without them (a redelivery) read them here. A cut's new start is stored with the
    answer (`complete_turn`): one transaction fewer, and a turn that dies before it only leaves
    the next turn to cut again.
    """
    start = conversation.window_start_id
    rows = newest_first
    if rows is None:
        rows = await messages.newest_messages(conversation.id, start, rows_to_read(budget))
    if any(row.encoding != spec.encoding for row in rows):
        rows = await _recount(messages, conversation.id, start, spec, budget)
    rule = image_rule_key(spec)
    if any(image.counted_for != rule for row in rows for image in row.images):
        recounted = [_with_rule(row, spec) for row in rows]
        await messages.recount_images(recounted, rows)
        rows = recounted
    return choose_window(rows, start, budget, int(budget * low_watermark_share))


async def _recount(
    messages: MessageStore, conversation_id: int, start: int, spec: ModelSpec, budget: int
) -> list[StoredMessage]:
    """Counts for a new encoding (the chat switched model family): rare, and bounded."""
    limit = rows_to_read(budget)
    stored = (await messages.messages_from(conversation_id, start))[-limit:]
    recounted = [
        replace(m, tokens=stored_tokens(m, spec.encoding), encoding=spec.encoding) for m in stored
    ]
    await messages.recount([(m.id, m.tokens) for m in recounted], spec.encoding)
    return recounted[::-1]


def _with_rule(message: StoredMessage, spec: ModelSpec) -> StoredMessage:
    """The message with its images counted by `spec`'s rule: a model that reads no images is
    sent none, and they cost nothing."""
    if not message.images:
        return message
    rule = spec.caps.image_tokens if spec.caps.images else None
    images = tuple(_counted(image, rule) for image in message.images)
    change = sum(new.tokens - old.tokens for new, old in zip(images, message.images, strict=True))
    return replace(message, images=images, tokens=message.tokens + change)


def _counted(image: StoredImage, rule: ImageRule | None) -> StoredImage:
    if rule is None:
        return replace(image, tokens=0, counted_for="")
    tokens = rule.tokens(image.width, image.height, image.detail)
    return replace(image, tokens=tokens, counted_for=rule.key)
