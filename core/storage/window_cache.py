"""The rows of recently active windows, so that a turn reads only what is new.

Reading a window means fetching hundreds of rows of text on every turn (a fifth of a turn's own
time at 1,000 messages of history, python -m bench). The rows do not change between turns, so
the repository keeps the last window of the most recently active conversations. Nothing is
trusted blindly: every use is checked against the database (how many rows the window holds and
its newest id, from the index alone), so rows another process added or deleted, or a write that
never committed, only cost a full read.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

DEFAULT_CONVERSATIONS = 256  # at most ~256 windows of text: a few MB with 8k-token windows


class Row(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=Row)


@dataclass(frozen=True, slots=True)
class WindowShape:
    """What the database says of a window's rows: ids are unique and only grow, so rows added
    or deleted by anyone change at least one of these."""

    count: int
    newest_id: int | None
    id_sum: int | None

    @staticmethod
    def of(newest_first: tuple[Row, ...]) -> WindowShape:
        if not newest_first:
            return WindowShape(0, None, None)
        return WindowShape(
            len(newest_first), newest_first[0].id, sum(row.id for row in newest_first)
        )


@dataclass(frozen=True, slots=True)
class CachedWindow(Generic[RowT]):
    start_id: int
    newest_first: tuple[RowT, ...]  # every stored row with id >= start_id

    def extended(self, row: RowT, shape: WindowShape) -> tuple[RowT, ...] | None:
        """The window with `row` stored on top, if the database agrees it holds exactly that."""
        rows = (row, *self.newest_first)
        if shape != WindowShape.of(rows):
            return None
        return rows


class WindowRows(Generic[RowT]):
    """Least recently used windows, by conversation id. Used from the event loop only."""

    def __init__(self, conversations: int = DEFAULT_CONVERSATIONS) -> None:
        self._size = conversations
        self._windows: OrderedDict[int, CachedWindow[RowT]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def get(self, conversation_id: int, start_id: int) -> CachedWindow[RowT] | None:
        window = self._windows.get(conversation_id)
        if window is None or window.start_id != start_id:
            return None
        self._windows.move_to_end(conversation_id)
        return window

    def put(self, conversation_id: int, start_id: int, newest_first: tuple[RowT, ...]) -> None:
        if self._size <= 0:
            return
        self._windows[conversation_id] = CachedWindow(start_id, newest_first)
        self._windows.move_to_end(conversation_id)
        while len(self._windows) > self._size:
            self._windows.popitem(last=False)

    def stored(self, conversation_id: int, row: RowT | None, new_start_id: int | None) -> None:
        """What this process just committed: a row (an answer) and the window's new start after
        a cut."""
        window = self._windows.get(conversation_id)
        if window is None:
            return
        rows = window.newest_first
        if row is not None:
            if rows and rows[0].id >= row.id:
                self.forget(conversation_id)  # not the newest after all: read it anew
                return
            rows = (row, *rows)
        start = window.start_id if new_start_id is None else new_start_id
        self._windows[conversation_id] = CachedWindow(
            start, tuple(r for r in rows if r.id >= start)
        )

    def forget(self, conversation_id: int | None = None) -> None:
        """Drop one conversation's window, or every window."""
        if conversation_id is None:
            self._windows.clear()
        else:
            self._windows.pop(conversation_id, None)
