"""Splitting long answers into platform-sized messages without breaking code blocks."""

from __future__ import annotations

import re
from collections.abc import Callable

FENCE = re.compile(r"^\s*(```+|~~~+)(.*)$")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """Parts of `text` each within `limit` (as `length` measures), in order, nothing lost.

    Cuts prefer a blank line, then a line end, then a space. A cut inside a fenced code block
    closes the fence at the end of the part and reopens it (same info string) in the next one,
    so every part renders as code; those added fence lines are the only text added.
    """
    if limit < 16:
        raise ValueError("limit too small to split sensibly")
    parts: list[str] = []
    reopen = ""  # the fence line to start the next part with, when a cut fell inside a block
    rest = text
    while rest:
        head = reopen
        if length(head + rest) <= limit:
            parts.append(head + rest)
            break
        # Reserve room for a closing fence in case the cut lands inside a code block.
        room = limit - length(head) - length("\n```")
        cut = _cut_point(rest, room, length)
        piece = rest[:cut]
        open_fence = _open_fence(head + piece)
        if open_fence is not None:
            part = head + piece + ("" if piece.endswith("\n") else "\n") + "```"
            reopen = open_fence + "\n"
            if length(reopen + "\n```") > limit // 2:
                # A fence line with a long info string would crowd out the text (or not fit
                # at all); reopen with a bare fence instead.
                reopen = "```\n"
        else:
            part = head + piece
            reopen = ""
        parts.append(part)
        rest = rest[cut:]
    return parts


def _cut_point(text: str, room: int, length: Callable[[str], int]) -> int:
    """The index to cut `text` at so that text[:index] measures at most `room`."""
    fits = _longest_fitting_prefix(text, room, length)
    window = text[:fits]
    for separator in ("\n\n", "\n", " "):
        index = window.rfind(separator)
        if index > fits // 3:  # a boundary, but not one that leaves a tiny part
            return index + len(separator)
    if fits == 0:
        return 1  # a single character wider than the room: still make progress
    return fits


def _longest_fitting_prefix(text: str, room: int, length: Callable[[str], int]) -> int:
    if length(text) <= room:
        return len(text)
    low, high = 0, min(len(text), max(room, 0))
    while low < high:  # binary search: `length` is monotonic in the prefix length
        middle = (low + high + 1) // 2
        if length(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    if low and "\ud800" <= text[low - 1] <= "\udbff":
        low -= 1  # never split a surrogate pair
    return low


def _open_fence(text: str) -> str | None:
    """The opening fence line if `text` ends inside a fenced code block, else None."""
    opened: str | None = None
    for line in text.split("\n"):
        match = FENCE.match(line)
        if not match:
            continue
        if opened is None:
            opened = line.strip()
        elif not match.group(2).strip():
            opened = None
    return opened
