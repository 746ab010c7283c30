"""Reading a turn's window from storage, and how a stored message is sent to the model."""

from __future__ import annotations

from dataclasses import replace

from core.model.catalog import ModelSpec
from core.storage.messages import MessageStore
from core.storage.records import ConversationState, StoredMessage
from core.tokens import count_message
from core.turn.window import Window, choose_window, rows_to_read


def prompt_message(message: StoredMessage) -> dict[str, str]:
    """A stored message as the model receives it; group messages carry their author's name."""
    if message.role == "user" and message.author_name:
        return {"role": "user", "content": f"{message.author_name}: {message.content}"}
    return {"role": message.role, "content": message.content}


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
    return choose_window(rows, start, budget, int(budget * low_watermark_share))


async def _recount(
    messages: MessageStore, conversation_id: int, start: int, spec: ModelSpec, budget: int
) -> list[StoredMessage]:
    """Counts for a new encoding (the chat switched model family): rare, and bounded."""
    limit = rows_to_read(budget)
    stored = (await messages.messages_from(conversation_id, start))[-limit:]
    recounted = [
        replace(
            m,
            tokens=count_message(m.role, prompt_message(m)["content"], spec.encoding),
            encoding=spec.encoding,
        )
        for m in stored
    ]
    await messages.recount([(m.id, m.tokens) for m in recounted], spec.encoding)
    return recounted[::-1]
