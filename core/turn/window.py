"""Which stored messages a turn sends: an exact token budget, cut in steps for the prompt cache.

A window that slides by one message each turn changes the prompt's prefix every turn, so the
provider's prompt cache (which bills a repeated prefix at a fraction of the price) never hits.
Instead the window keeps its start until it overflows the budget, then drops the oldest messages
in one step down to a low watermark and grows again: between two cuts every request extends the
previous one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.storage.records import StoredMessage

# The smallest a stored message can be (3 framing tokens + 1 for the role), so a budget of B
# tokens can never hold more than B // MIN_MESSAGE_TOKENS messages: that bounds every read.
MIN_MESSAGE_TOKENS = 4


def rows_to_read(budget: int) -> int:
    """How many newest rows are enough to decide the window: one more than can possibly fit."""
    return budget // MIN_MESSAGE_TOKENS + 1


class Counted(Protocol):
    """What trimming needs of a stored message: its id and its token count."""

    @property
    def id(self) -> int: ...

    @property
    def tokens(self) -> int: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class WindowPlan:
    start_id: int  # send the messages with id >= start_id
    tokens: int  # their total
    cut: bool  # the window overflowed and its start moved forward


def plan_window(
    newest_first: Sequence[Counted], start_id: int, budget: int, low_watermark: int
) -> WindowPlan:
    """Keep the window's start while everything from it fits `budget`; else cut to `low_watermark`.

    `newest_first` holds the rows from `start_id` on (the new message first), as read with
    `rows_to_read(budget)`. The newest message is always kept; the caller has made sure it fits.
    A cut never starts on a `tool` message: the call it answers would be cut off, and the API
    refuses a result without its call; such results go with their call.
    """
    total = sum(row.tokens for row in newest_first)
    if total <= budget:
        return WindowPlan(start_id=start_id, tokens=total, cut=False)
    kept_tokens = 0
    kept_start = newest_first[0].id if newest_first else start_id
    kept = 0
    for index, row in enumerate(newest_first):
        if index > 0 and kept_tokens + row.tokens > low_watermark:
            break
        kept_tokens += row.tokens
        kept = index + 1
    while kept > 1 and newest_first[kept - 1].role == "tool":
        kept -= 1
        kept_tokens -= newest_first[kept].tokens
    if newest_first:
        kept_start = newest_first[kept - 1].id
    return WindowPlan(start_id=kept_start, tokens=kept_tokens, cut=True)


# A history budget smaller than this leaves no room for a conversation.
MIN_HISTORY_BUDGET = 16


@dataclass(frozen=True, slots=True)
class Window:
    """The stored messages a turn sends, oldest first."""

    messages: list[StoredMessage]
    cut: bool  # the window overflowed: `start_id` is its new start, stored with the answer
    start_id: int

    @property
    def tokens(self) -> int:
        return sum(message.tokens for message in self.messages)


def choose_window(
    newest_first: Sequence[StoredMessage], start_id: int, budget: int, low_watermark: int
) -> Window:
    plan = plan_window(newest_first, start_id, budget, low_watermark)
    messages = [row for row in reversed(newest_first) if row.id >= plan.start_id]
    # Results whose call is gone (deleted by age, say) are never sent: the API refuses them.
    orphans = 0
    while orphans < len(messages) - 1 and messages[orphans].role == "tool":
        orphans += 1
    return Window(messages=messages[orphans:], cut=plan.cut, start_id=plan.start_id)


def halved(window: Window, low_watermark_share: float) -> Window | None:
    """The newest messages of `window` within half its tokens (cut to the low watermark, as any
    overflow is); None when it cannot shrink. Everything it keeps was in `window`, so nothing
    is read again."""
    budget = window.tokens // 2
    if len(window.messages) < 2 or budget < MIN_HISTORY_BUDGET:
        return None
    shorter = choose_window(
        window.messages[::-1], window.start_id, budget, int(budget * low_watermark_share)
    )
    if len(shorter.messages) >= len(window.messages):
        return None
    return shorter
