"""Charts as server-rendered inline SVG (templates/_chart.html): no script, so the strictest CSP
and a phone without JavaScript both show them. Stacked bars, one per day, a colour per slice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.console_port import DayUsage, UsageSeries

WIDTH = 600
HEIGHT = 160
TOP = 8  # room above the tallest bar
BOTTOM = 18  # room for the day labels
MAX_SLICES = 5  # more are summed as "other" (colours s0..s5)
METRICS = {"cost_usd": "cost", "tokens": "tokens", "turns": "turns"}


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: int  # swatch class s0..s5
    day: date
    slice: str
    value: float


@dataclass(frozen=True, slots=True)
class Chart:
    metric: str  # "cost_usd" | "tokens" | "turns"
    bars: tuple[Bar, ...]
    legend: tuple[tuple[int, str, float], ...]  # (colour, slice, its total)
    days: tuple[date, ...]
    day_totals: tuple[float, ...]  # per day, all slices: what a reader compares with
    peak: float
    labels: tuple[tuple[float, str, str], ...]  # (x, anchor, text) under a bar a week
    width: int = WIDTH
    height: int = HEIGHT


def value_of(day: DayUsage, metric: str) -> float:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    return float(getattr(day, metric))


def stacked(series: tuple[UsageSeries, ...], metric: str, days: tuple[date, ...]) -> Chart:
    """Bars for `days`, each stacked from `series` (largest total first, the rest as other)."""
    ranked = sorted(series, key=lambda s: sum(value_of(d, metric) for d in s.days), reverse=True)
    shown = ranked[:MAX_SLICES]
    rest = ranked[MAX_SLICES:]
    slices: list[tuple[str, dict[date, float]]] = [
        (s.name, {d.day: value_of(d, metric) for d in s.days}) for s in shown
    ]
    if rest:
        other: dict[date, float] = {}
        for s in rest:
            for d in s.days:
                other[d.day] = other.get(d.day, 0.0) + value_of(d, metric)
        slices.append(("other", other))
    totals = tuple(sum(values.get(day, 0.0) for _, values in slices) for day in days)
    peak = max(totals, default=0.0)
    plot = HEIGHT - TOP - BOTTOM
    step = WIDTH / max(len(days), 1)
    bars: list[Bar] = []
    for index, day in enumerate(days):
        y = float(HEIGHT - BOTTOM)
        for colour, (name, values) in enumerate(slices):
            value = values.get(day, 0.0)
            if value <= 0 or peak <= 0:
                continue
            height = value / peak * plot
            y -= height
            bars.append(Bar(index * step + 1, y, step - 2, height, colour, day, name, value))
    legend = tuple(
        (colour, name, sum(values.values())) for colour, (name, values) in enumerate(slices)
    )
    # Weekly labels counted back from today, the last one (today) flush right.
    last = len(days) - 1
    labels = tuple(
        (
            WIDTH if index == last else max(index * step + step / 2, 0),
            "end" if index == last else ("start" if index == 0 else "middle"),
            day.strftime("%m-%d"),
        )
        for index, day in enumerate(days)
        if (last - index) % 7 == 0
    )
    return Chart(metric, tuple(bars), legend, days, totals, peak, labels)
