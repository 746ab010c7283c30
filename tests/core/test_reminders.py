"""Reminders end to end in the core: stored by the tool, delivered once by the scheduler when
the (injected) clock reaches them, across a restart and with two schedulers (two processes) on
one database, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bots.console import CONSOLE_KEY, ConsolePush
from config.settings import Settings
from core.boundary import ConversationKey, ReplyEvent
from core.reminders.scheduler import LEASE_S, ReminderScheduler
from core.storage.engine import open_database
from core.storage.reminders import NewReminder
from core.storage.schema import ReminderRow
from core.storage.stores import Storage
from tests.core.helpers import ALICE, GROUP, PRIVATE, group, say
from tests.core.reminder_helpers import (
    START,
    FakeClock,
    RecordingPush,
    clocked_app,
    context,
    eventually,
)


async def states(settings: Settings) -> dict[int, tuple[str, int]]:
    """Each reminder's state and attempts, read on a connection of the test's own."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(ReminderRow.id, ReminderRow.state, ReminderRow.attempts)
            )
            return {rid: (state, attempts) for rid, state, attempts in rows}
    finally:
        await engine.dispose()


async def test_a_reminder_set_by_the_tool_is_delivered_once_when_its_time_comes(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(START)
    async with clocked_app(make_settings(), clock) as app:
        # In a group the reminder names who asked (the name the user last wrote under).
        await say(app.service, group("@bot hi, I'm Alice"))
        push = RecordingPush()
        app.service.offer_push("telegram", push)
        [set_reminder] = [t for t in app.reminder_tools.tools() if t.spec.name == "set_reminder"]

        asked_in_group = context(GROUP, clock(), user_id=ALICE.user_id, is_private=False)
        out = await set_reminder.run({"text": "call mum", "in_minutes": 5}, asked_in_group)
        assert not out.is_error, out.text
        assert out.text.startswith("Reminder #1 set for Mon 2026-12-07 22:05 UTC")

        clock.move(minutes=4, seconds=59)
        app.reminders.poke()
        await asyncio.sleep(0.2)  # a moment for a scheduler that would deliver early
        assert push.sent == []

        clock.move(seconds=1)
        app.reminders.poke()
        await eventually(lambda: bool(push.sent))
        assert push.sent == [(GROUP, "⏰ Reminder for Alice: call mum")]

        clock.move(minutes=10)
        app.reminders.poke()
        await asyncio.sleep(0.2)
        assert len(push.sent) == 1
        assert await states(app.settings) == {1: ("delivered", 1)}


async def test_a_reminder_set_before_a_restart_is_delivered_once_after_it_late(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(START)
    settings = make_settings()
    async with clocked_app(settings, clock) as app:
        [set_reminder] = [t for t in app.reminder_tools.tools() if t.spec.name == "set_reminder"]
        out = await set_reminder.run(
            {"text": "stretch", "in_minutes": 1}, context(CONSOLE_KEY, clock(), user_id="alice")
        )
        assert not out.is_error, out.text
    # The bot is down while the reminder falls due.
    clock.move(minutes=30)
    async with clocked_app(settings, clock) as app:
        out_file = io.StringIO()
        await asyncio.sleep(0.2)  # the adapter comes up after the core
        app.service.offer_push("console", ConsolePush(out_file))
        await eventually(lambda: "stretch" in out_file.getvalue())
        app.reminders.poke()
        await asyncio.sleep(0.2)
    assert out_file.getvalue() == (
        "⏰ Reminder (late: it was due Mon 2026-12-07 22:01 UTC, while I was offline): stretch\n"
    )
    async with clocked_app(settings, clock) as app:  # and not again at the next start
        again = io.StringIO()
        app.service.offer_push("console", ConsolePush(again))
        await asyncio.sleep(0.3)
    assert again.getvalue() == ""


class MeetingPush(RecordingPush):
    """Sends its first reminder only once every other one has one to send too: both schedulers
    hold claims at the same time, however the machine schedules them."""

    others: list[MeetingPush]

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()

    async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
        if not self.started.is_set():
            self.started.set()
            with contextlib.suppress(TimeoutError):  # then the test fails, but fast
                async with asyncio.timeout(20):
                    for other in self.others:
                        await other.started.wait()
        return await super().push(key, events)


def due_reminders(count: int, key: ConversationKey) -> list[NewReminder]:
    return [
        NewReminder(key, "11", "Alice", f"task {n}", START + timedelta(minutes=n), "UTC")
        for n in range(count)
    ]


async def test_two_schedulers_on_one_database_deliver_each_reminder_once(
    make_settings: Callable[..., Settings],
) -> None:
    """Two bot processes: each its own connections to the database and its own scheduler."""
    clock = FakeClock(START)
    settings = make_settings()
    async with clocked_app(settings, clock) as app:
        key = ConversationKey("telegram", "-500")
        for reminder in due_reminders(40, key):
            await app.storage.reminders.add(reminder, limit=100, now=START)
        other_database = open_database(settings.database_url)
        try:
            other = Storage.open(other_database)
            pushes = [MeetingPush(), MeetingPush()]
            for push in pushes:
                push.others = pushes
            schedulers = [
                ReminderScheduler(app.storage.reminders, clock, owner="a", claim_batch=3),
                ReminderScheduler(other.reminders, clock, owner="b", claim_batch=3),
            ]
            for scheduler, push in zip(schedulers, pushes, strict=True):
                scheduler.offer("telegram", push)
            clock.move(hours=1)

            counts = await asyncio.gather(*(s.deliver_due() for s in schedulers))
        finally:
            await other_database.dispose()

    sent = [text.rsplit(": ", 1)[1] for push in pushes for _, text in push.sent]
    assert sorted(sent) == sorted(f"task {n}" for n in range(40))
    assert sum(counts) == 40
    assert all(counts), counts  # both took part (MeetingPush): the claims really competed
    assert set((await states(settings)).values()) == {("delivered", 1)}


async def test_a_claim_whose_process_died_is_taken_over_after_the_lease(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(START)
    async with clocked_app(make_settings(), clock) as app:
        key = ConversationKey("discord", "900")
        [reminder] = due_reminders(1, key)
        await app.storage.reminders.add(reminder, limit=10, now=START)
        # A process claims it and dies before sending it.
        taken = await app.storage.reminders.claim_due(
            ["discord"], "dead", START, timedelta(seconds=LEASE_S), 5
        )
        assert [r.text for r in taken] == ["task 0"]

        push = RecordingPush()
        survivor = ReminderScheduler(app.storage.reminders, clock, owner="alive")
        survivor.offer("discord", push)
        clock.move(seconds=LEASE_S - 1)
        assert await survivor.deliver_due() == 0
        clock.move(seconds=1)
        assert await survivor.deliver_due() == 1
        assert push.sent == [(key, "⏰ Reminder for Alice: task 0")]


async def test_a_refused_push_is_retried_then_given_up(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(START)
    settings = make_settings()
    async with clocked_app(settings, clock) as app:
        key = ConversationKey("telegram", "77")
        [reminder] = due_reminders(1, key)
        await app.storage.reminders.add(reminder, limit=10, now=START)
        refusing = RecordingPush(accepts=False)
        scheduler = ReminderScheduler(app.storage.reminders, clock, owner="x", max_attempts=2)
        scheduler.offer("telegram", refusing)

        assert await scheduler.deliver_due() == 0
        assert await states(settings) == {1: ("pending", 1)}
        assert await scheduler.deliver_due() == 0  # the lease holds it meanwhile
        clock.move(seconds=LEASE_S)
        assert await scheduler.deliver_due() == 0
        assert await states(settings) == {1: ("failed", 2)}


async def test_only_platforms_with_a_push_here_are_claimed(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(START)
    settings = make_settings()
    async with clocked_app(settings, clock) as app:
        [reminder] = due_reminders(1, ConversationKey("discord", "1"))
        await app.storage.reminders.add(reminder, limit=10, now=START)
        scheduler = ReminderScheduler(app.storage.reminders, clock, owner="tg-only")
        scheduler.offer("telegram", RecordingPush())
        clock.move(hours=1)
        assert await scheduler.deliver_due() == 0
        assert await states(settings) == {1: ("pending", 0)}


@pytest.mark.parametrize("limit", [2])
async def test_the_pending_cap_is_per_conversation(
    make_settings: Callable[..., Settings], limit: int
) -> None:
    clock = FakeClock(START)
    async with clocked_app(make_settings(reminders_max_pending=limit), clock) as app:
        [set_reminder] = [t for t in app.reminder_tools.tools() if t.spec.name == "set_reminder"]
        here = context(PRIVATE, clock())
        for minutes in (5, 6):
            assert not (await set_reminder.run({"text": "x", "in_minutes": minutes}, here)).is_error
        full = await set_reminder.run({"text": "x", "in_minutes": 7}, here)
        assert full.is_error
        assert full.text == (
            "Not done: this chat already has 2 pending reminders, the most it may have: cancel "
            "one first (/reminders)."
        )
        elsewhere = context(ConversationKey("telegram", "other"), clock())
        assert not (await set_reminder.run({"text": "x", "in_minutes": 7}, elsewhere)).is_error


async def test_stopping_lets_a_reminder_being_sent_be_marked_sent(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(START)
    settings = make_settings()
    started, release = asyncio.Event(), asyncio.Event()

    class SlowPlatform:
        async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
            started.set()
            await release.wait()
            return True

    async with clocked_app(settings, clock) as app:
        [reminder] = due_reminders(1, ConversationKey("telegram", "5"))
        await app.storage.reminders.add(reminder, limit=10, now=START)
        app.service.offer_push("telegram", SlowPlatform())
        app.reminders.poke()
        await asyncio.wait_for(started.wait(), 20)
        stopping = asyncio.create_task(app.reminders.stop())  # as the bot stops
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.wait_for(stopping, 20)
    assert await states(settings) == {1: ("delivered", 1)}
