"""When a reminder falls due: a local date and time in the chat's timezone, or a delay from
now; refused (with a reason the model can pass on) in the past, beyond a year, or at a local
time that does not exist (skipped by a daylight-saving change)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from core.reminders.timezones import local_time, zone

MAX_AHEAD = timedelta(days=366)


class WhenRefused(ValueError):
    """A due time that cannot be used; the message is one line for the model to pass on."""


def due_time(now: datetime, timezone: str, at: object, in_minutes: object) -> datetime:
    """The due time in UTC from the tool's arguments: `at` (ISO 8601; without an offset it is
    the chat's local time) or `in_minutes` (a delay from `now`), exactly one of them."""
    if at in (None, "") and in_minutes in (None, ""):
        raise WhenRefused("say when: 'at' (local date and time) or 'in_minutes'")
    if at not in (None, "") and in_minutes not in (None, ""):
        raise WhenRefused("give either 'at' or 'in_minutes', not both")
    due = _at(at, timezone) if at not in (None, "") else now + _delay(in_minutes)
    if due <= now:
        raise WhenRefused(
            f"{local_time(due, timezone)} is in the past: it is now {local_time(now, timezone)}"
        )
    if due - now > MAX_AHEAD:
        raise WhenRefused("reminders can be set at most a year ahead")
    return due.astimezone(UTC)


def _at(value: object, timezone: str) -> datetime:
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise WhenRefused(
            f"'{text[:40]}' is not a date and time: use ISO 8601, e.g. 2026-12-08T09:00"
        ) from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    tz = zone(timezone)
    local = moment.replace(tzinfo=tz)
    # A wall time skipped when clocks move forward comes back changed from a round trip.
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment:
        raise WhenRefused(
            f"{moment:%Y-%m-%d %H:%M} does not exist in {timezone} (the clocks skip it for "
            "daylight saving time): pick another time"
        )
    return local.astimezone(UTC)


def _delay(value: object) -> timedelta:
    try:
        minutes = float(str(value).strip())
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes <= 0:
        raise WhenRefused("'in_minutes' must be a positive number of minutes")
    if minutes > MAX_AHEAD.total_seconds() / 60:
        raise WhenRefused("reminders can be set at most a year ahead")
    return timedelta(minutes=minutes)
