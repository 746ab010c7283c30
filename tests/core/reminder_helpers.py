"""What the reminder tests share: a clock they move, a push that records, a tool call context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from config.settings import Settings
from core.bootstrap import App, bootstrap
from core.boundary import ConversationKey, Notice, ReplyEvent
from core.tools.base import ToolCallContext


class FakeClock:
    """The bot's time, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingPush:
    """A platform that takes (or refuses) what is sent to it and keeps it."""

    accepts: bool = True
    sent: list[tuple[ConversationKey, str]] = field(default_factory=list)

    async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
        await asyncio.sleep(0)  # let another scheduler run in between, as a network call would
        if self.accepts:
            self.sent += [(key, event.text) for event in events if isinstance(event, Notice)]
        return self.accepts


def context(
    key: ConversationKey,
    now: datetime,
    timezone: str = "UTC",
    user_id: str = "11",
    *,
    is_private: bool = True,
    is_owner: bool = False,
    language: str | None = "en",
) -> ToolCallContext:
    return ToolCallContext(
        key=key,
        user_id=user_id,
        is_private=is_private,
        is_owner=is_owner,
        timezone=timezone,
        now=now,
        language=language,
    )


async def eventually(predicate: Callable[[], bool], within_s: float = 20.0) -> None:
    """Wait (generously) for what a background task does; the clock is not involved."""
    async with asyncio.timeout(within_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.01)


@asynccontextmanager
async def clocked_app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    async with bootstrap(settings, clock=clock) as app:
        yield app


START = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
