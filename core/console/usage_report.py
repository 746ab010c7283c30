"""The Overview's figures: usage rows summed per UTC day, sliced by model, platform and kind;
refused and failed turns per day and kind; the costliest chats; each budget that is on and how
near the top spender is to it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from core.console_port import BudgetLine, ChatCost, DayUsage, UsageReport, UsageSeries
from core.policy.limits import LimitConfig
from core.storage.console_queries import ConsoleQueries, ConversationFacts, UsageBucket

COSTLIEST_SHOWN = 10


async def usage_report(
    queries: ConsoleQueries,
    limits: LimitConfig,
    days: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> UsageReport:
    today = now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), tzinfo=UTC)
    buckets = await queries.usage_by_day(since)
    span = [first + timedelta(days=n) for n in range(days)]
    costliest = await queries.costliest(since, COSTLIEST_SHOWN)
    keys = {f.id: f.key for f in await _facts(queries, [cid for cid, *_ in costliest])}
    return UsageReport(
        first_day=first,
        last_day=today,
        total=_series("all", buckets, span),
        by_model=_sliced(buckets, span, lambda b: b.model),
        by_platform=_sliced(buckets, span, lambda b: b.platform),
        by_kind=_sliced(buckets, span, lambda b: b.kind),
        costliest=tuple(
            ChatCost(cid, keys[cid], turns, tokens, usd)
            for cid, turns, tokens, usd in costliest
            if cid in keys
        ),
        budgets=tuple(await _budgets(queries, limits, today)),
        events_by_kind=_sliced(await _events(queries, first), span, lambda b: b.kind),
    )


async def _events(queries: ConsoleQueries, first: date) -> list[UsageBucket]:
    """Refused and failed turns as buckets of turns (no tokens, no cost), to slice the same way."""
    return [
        UsageBucket(day, "", platform, kind, count, 0, 0.0)
        for day, platform, kind, count in await queries.turn_events(first)
    ]


async def _facts(queries: ConsoleQueries, ids: list[int]) -> list[ConversationFacts]:
    found = [await queries.conversation(cid) for cid in ids]
    return [f for f in found if f is not None]


def _series(name: str, buckets: Iterable[UsageBucket], span: list[date]) -> UsageSeries:
    per_day: dict[date, list[float]] = {day: [0, 0, 0.0] for day in span}
    for bucket in buckets:
        figures = per_day.get(bucket.day)
        if figures is None:
            continue  # a row stamped in the future (a clock skew): not in these days
        figures[0] += bucket.turns
        figures[1] += bucket.tokens
        figures[2] += bucket.cost_usd
    return UsageSeries(
        name,
        tuple(DayUsage(day, int(f[0]), int(f[1]), f[2]) for day, f in sorted(per_day.items())),
    )


def _sliced(
    buckets: list[UsageBucket], span: list[date], slice_of: Callable[[UsageBucket], str]
) -> tuple[UsageSeries, ...]:
    names = sorted({slice_of(b) for b in buckets})
    series = [_series(n, [b for b in buckets if slice_of(b) == n], span) for n in names]
    return tuple(sorted(series, key=lambda s: (-s.cost_usd, -s.tokens, s.name)))


async def _budgets(queries: ConsoleQueries, limits: LimitConfig, today: date) -> list[BudgetLine]:
    day_start = datetime.combine(today, time(), tzinfo=UTC)
    month_start = day_start.replace(day=1)
    lines = []
    for scope in ("chat", "user"):
        for budget in limits.budgets(scope):
            since = day_start if budget.period == "daily" else month_start
            top = await queries.top_spender(scope, since, budget.unit)
            spent = 0.0 if top is None else (top.usd if budget.unit == "usd" else top.tokens)
            lines.append(
                BudgetLine(
                    scope=scope,
                    period=budget.period,
                    unit=budget.unit,
                    limit=budget.limit,
                    most_spent=float(spent),
                    most_spent_by="" if top is None else top.who,
                )
            )
    return lines
