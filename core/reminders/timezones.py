"""A chat's timezone (`/set timezone Europe/Berlin`): IANA names checked against the zoneinfo
database (the `tzdata` package where the system has none), and times shown in it."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIMEZONE = "UTC"


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    # Reads the whole database once: a name is looked up here, never opened as a path, so
    # "../../etc/passwd" is just an unknown name.
    return {name.casefold(): name for name in available_timezones() | {"UTC"}}


def canonical_zone(name: str) -> str | None:
    """The database's spelling of an IANA zone name ("europe/berlin" → "Europe/Berlin"),
    or None when there is no such zone."""
    return _zones_by_folded_name().get(name.strip().casefold())


def zone_names() -> list[str]:
    """Every zone name, sorted (for autocompletion)."""
    return sorted(_zones_by_folded_name().values())


def zone(name: str | None) -> tzinfo:
    """The zone named `name`; UTC for none or an unknown one (a name stored before the
    database lost it must not break a chat)."""
    canonical = canonical_zone(name or "")
    return UTC if canonical in (None, "UTC") else ZoneInfo(canonical)


def local_time(moment: datetime, timezone: str | None, with_weekday: bool = True) -> str:
    """E.g. "Sun 2026-03-29 03:30 CEST" (the zone's abbreviation, or its offset)."""
    local = moment.astimezone(zone(timezone))
    label = local.tzname() or local.strftime("%z")
    if label.startswith(("+", "-")):  # some zones have no abbreviation: "+09" reads poorly
        label = "UTC" + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    shown = local.strftime("%a %Y-%m-%d %H:%M" if with_weekday else "%Y-%m-%d %H:%M")
    return f"{shown} {label}"
