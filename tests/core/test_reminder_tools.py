"""The time and reminder tools as the tool loop calls them (`run`), in the chat's timezone, with
their refusals; and through their ToolSource."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from config.settings import Settings
from core.boundary import ConversationKey
from core.tools.base import Tool
from core.tools.reminders import CurrentTime, ReminderTools
from tests.core.helpers import PRIVATE
from tests.core.reminder_helpers import START, FakeClock, clocked_app, context

BERLIN = "Europe/Berlin"
# 2026-03-29: at 01:00 UTC Berlin's clocks go from 02:00 CET to 03:00 CEST.
SPRING_FORWARD = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
# 2026-10-25: at 01:00 UTC they go back from 03:00 CEST to 02:00 CET.
FALL_BACK = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def named(source: ReminderTools, name: str) -> Tool:
    [tool] = [tool for tool in source.tools() if tool.spec.name == name]
    return tool


@pytest.mark.parametrize(
    ("now", "timezone", "expected"),
    [
        (
            datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
            BERLIN,
            "Sunday 2026-03-29 01:59:00 CET (UTC+01:00), timezone Europe/Berlin",
        ),
        (
            SPRING_FORWARD,
            BERLIN,
            "Sunday 2026-03-29 03:00:00 CEST (UTC+02:00), timezone Europe/Berlin",
        ),
        (START, "Asia/Seoul", "Tuesday 2026-12-08 07:00:00 KST (UTC+09:00), timezone Asia/Seoul"),
        (START, "UTC", "Monday 2026-12-07 22:00:00 UTC (UTC+00:00), timezone UTC"),
        (START, "Not/AZone", "Monday 2026-12-07 22:00:00 UTC (UTC+00:00), timezone UTC"),
    ],
)
async def test_current_time_is_the_chats_local_time(
    now: datetime, timezone: str, expected: str
) -> None:
    out = await CurrentTime().run({}, context(PRIVATE, now, timezone))
    assert (out.text, out.is_error) == (expected, False)


async def test_the_source_offers_the_tools_none_acting_outside(
    make_settings: Callable[..., Settings],
) -> None:
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        source = app.reminder_tools
        names = [tool.spec.name for tool in source.tools()]
        assert names == ["current_time", "set_reminder", "list_reminders", "cancel_reminder"]
        assert not any(tool.spec.acts_outside for tool in source.tools())
        assert source.allowed_in(context(PRIVATE, START))
    async with clocked_app(make_settings(reminders_enabled=False), FakeClock(START)) as app:
        assert [tool.spec.name for tool in app.reminder_tools.tools()] == ["current_time"]


@pytest.mark.parametrize(
    ("arguments", "now", "answer"),
    [
        # A local time in the chat's timezone, on the day its clocks spring forward.
        (
            {"text": "call mum", "at": "2026-03-29T03:30"},
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "Reminder #1 set for Sun 2026-03-29 03:30 CEST (Europe/Berlin), in 1 h 0 min: call mum",
        ),
        # 90 minutes from 01:30 CET is 04:00 CEST: an hour of wall time was skipped.
        (
            {"text": "call mum", "in_minutes": 90},
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "Reminder #1 set for Sun 2026-03-29 04:00 CEST (Europe/Berlin), in 1 h 30 min: "
            "call mum",
        ),
        # 02:30 comes twice when they fall back: the first one (still summer time) is meant.
        (
            {"text": "call mum", "at": "2026-10-25 02:30"},
            datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
            "Reminder #1 set for Sun 2026-10-25 02:30 CEST (Europe/Berlin), in 2 h 30 min: "
            "call mum",
        ),
        # An explicit offset wins over the chat's timezone.
        (
            {"text": "call mum", "at": "2026-12-08T09:00+09:00"},
            START,
            "Reminder #1 set for Tue 2026-12-08 01:00 CET (Europe/Berlin), in 2 h 0 min: call mum",
        ),
    ],
)
async def test_set_reminder_reads_times_in_the_chats_timezone(
    make_settings: Callable[..., Settings],
    arguments: dict[str, object],
    now: datetime,
    answer: str,
) -> None:
    async with clocked_app(make_settings(), FakeClock(now)) as app:
        out = await named(app.reminder_tools, "set_reminder").run(
            arguments, context(PRIVATE, now, BERLIN)
        )
        assert (out.text, out.is_error) == (answer, False)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (
            {"text": "x", "at": "2026-03-29T02:30"},
            "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks skip it for daylight "
            "saving time): pick another time",
        ),
        (
            {"text": "x", "at": "2026-03-28T23:00"},
            "Sat 2026-03-28 23:00 CET is in the past: it is now Sun 2026-03-29 01:30 CET",
        ),
        ({"text": "x", "at": "2027-03-30T09:00"}, "reminders can be set at most a year ahead"),
        ({"text": "x", "in_minutes": 600_000}, "reminders can be set at most a year ahead"),
        ({"text": "x", "in_minutes": -5}, "'in_minutes' must be a positive number of minutes"),
        ({"text": "x", "in_minutes": "soon"}, "'in_minutes' must be a positive number of minutes"),
        (
            {"text": "x", "at": "tomorrow at 9"},
            "'tomorrow at 9' is not a date and time: use ISO 8601, e.g. 2026-12-08T09:00",
        ),
        ({"text": "x"}, "say when: 'at' (local date and time) or 'in_minutes'"),
        (
            {"text": "x", "at": "2026-03-29T09:00", "in_minutes": 5},
            "give either 'at' or 'in_minutes', not both",
        ),
        ({"text": "  ", "in_minutes": 5}, "say what to remind of ('text')"),
        ({"text": "x" * 501, "in_minutes": 5}, "the text is too long (at most 500 characters)"),
    ],
)
async def test_set_reminder_refuses_with_a_reason_and_stores_nothing(
    make_settings: Callable[..., Settings], arguments: dict[str, object], reason: str
) -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    async with clocked_app(make_settings(), FakeClock(now)) as app:
        out = await named(app.reminder_tools, "set_reminder").run(
            arguments, context(PRIVATE, now, BERLIN)
        )
        assert (out.text, out.is_error) == (f"Not done: {reason}.", True)
        assert await app.storage.reminders.pending(PRIVATE) == []


async def test_list_and_cancel_reminders_as_tools(make_settings: Callable[..., Settings]) -> None:
    group = ConversationKey("telegram", "-300")
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        tools = app.reminder_tools
        alice = context(group, START, "Asia/Seoul", user_id="11", is_private=False)
        bob = context(group, START, "Asia/Seoul", user_id="22", is_private=False)
        await named(tools, "set_reminder").run({"text": "water plants", "in_minutes": 60}, alice)

        listed = await named(tools, "list_reminders").run({}, bob)
        assert listed.text == "#1 Tue 2026-12-08 08:00 KST: water plants"

        refused = await named(tools, "cancel_reminder").run({"id": 1}, bob)
        assert refused.is_error
        assert "only the person who set reminder #1" in refused.text
        missing = await named(tools, "cancel_reminder").run({"id": 7}, alice)
        assert missing.text == "Not done: there is no pending reminder #7 in this chat."

        done = await named(tools, "cancel_reminder").run({"id": "#1"}, alice)
        assert (done.text, done.is_error) == ("Cancelled reminder #1: water plants", False)
        assert (await named(tools, "list_reminders").run({}, alice)).text == (
            "No reminders are pending in this chat."
        )


async def test_a_database_that_is_away_is_a_refusal_for_the_model(
    make_settings: Callable[..., Settings],
) -> None:
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        app.storage.reminders.database.close()  # what a stopping bot's database answers
        out = await named(app.reminder_tools, "set_reminder").run(
            {"text": "x", "in_minutes": 5}, context(PRIVATE, START)
        )
        assert (out.text, out.is_error) == (
            "Not done: the bot cannot reach its database right now: try again in a moment.",
            True,
        )
