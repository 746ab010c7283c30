"""The conversation a piece of work belongs to, for log lines (issue 15: with several processes
a log line must say which conversation, and the log format adds which process)."""

from __future__ import annotations

from contextvars import ContextVar

# Set where a conversation's work starts (a turn, an inbox drain); tasks started from there
# inherit it. "" outside any conversation.
current_conversation: ContextVar[str] = ContextVar("current_conversation", default="")
