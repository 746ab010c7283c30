"""Abuse limits: messages per minute and spending budgets, per user and per chat.

Rates live in memory (one float per key active in the last minute) for one process on SQLite,
and in the database (`SharedRateLimiter`) when several processes share PostgreSQL, so that a
user's allowance is one allowance however many processes answer them; budgets are summed from
the usage table, so they hold across restarts and across processes sharing a database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from core.boundary import IncomingMessage
from core.storage.rate_counters import RateCounterStore
from core.storage.records import Spending
from core.storage.usage import UsageStore
from core.texts import Texts

WINDOW_S = 60.0


class RateLimiter:
    """At most `per_minute` events per key in any minute, with bursts up to that many (GCRA).

    Each key holds one timestamp: when its allowance is fully back. Keys whose allowance is back
    are dropped by a sweep at most once a minute, so memory follows recent activity, not the
    number of chats ever seen.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = WINDOW_S / per_minute
        self._clock = clock
        self._full_at: dict[tuple[str, ...], float] = {}
        self._refused: dict[tuple[str, ...], float] = {}  # when a refusal was last announced
        self._next_sweep = clock() + WINDOW_S

    def __len__(self) -> int:
        return len(self._full_at)

    def take(self, key: tuple[str, ...]) -> float:
        """0.0 when one more event is allowed now (and counts it), else seconds until it is."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        full_at = max(self._full_at.get(key, now), now) + self._interval
        if full_at - now > WINDOW_S + 1e-9:
            return full_at - now - WINDOW_S
        self._full_at[key] = full_at
        return 0.0

    def first_refusal(self, key: tuple[str, ...]) -> bool:
        """True once per minute of refusals: say so once, then stay quiet instead of flooding."""
        now = self._clock()
        if now - self._refused.get(key, -WINDOW_S) < WINDOW_S:
            return False
        self._refused[key] = now
        return True

    def _sweep(self, now: float) -> None:
        self._full_at = {k: t for k, t in self._full_at.items() if t > now}
        self._refused = {k: t for k, t in self._refused.items() if now - t < WINDOW_S}
        self._next_sweep = now + WINDOW_S


class Rates(Protocol):
    """A rate limiter as AbuseLimits uses it."""

    def __len__(self) -> int: ...

    async def take(self, key: tuple[str, ...]) -> float: ...

    async def first_refusal(self, key: tuple[str, ...]) -> bool: ...


class LocalRates:
    """`RateLimiter` (this process's memory) behind the `Rates` interface."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    def __len__(self) -> int:
        return len(self._limiter)

    async def take(self, key: tuple[str, ...]) -> float:
        return self._limiter.take(key)

    async def first_refusal(self, key: tuple[str, ...]) -> bool:
        return self._limiter.first_refusal(key)


class SharedRateLimiter:
    """The same GCRA as `RateLimiter`, kept in the database: one allowance per key for every
    process. Wall-clock seconds, since processes' monotonic clocks differ."""

    def __init__(
        self,
        store: RateCounterStore,
        name: str,
        per_minute: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._name = name  # "user", "chat", "command": one allowance per kind and key
        self._interval = WINDOW_S / per_minute
        self._clock = clock
        self._next_sweep = clock() + WINDOW_S

    def __len__(self) -> int:
        return 0  # nothing in this process's memory

    def _key(self, key: tuple[str, ...]) -> str:
        return ":".join((self._name, *key))[:200]

    async def take(self, key: tuple[str, ...]) -> float:
        now = self._clock()
        if now >= self._next_sweep:
            self._next_sweep = now + WINDOW_S
            await self._store.sweep(now, WINDOW_S)
        return await self._store.take(self._key(key), now, self._interval, WINDOW_S + 1e-9)

    async def first_refusal(self, key: tuple[str, ...]) -> bool:
        return await self._store.first_refusal(self._key(key), self._clock(), WINDOW_S)


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """0 switches a limit off."""

    user_per_min: int = 0
    chat_per_min: int = 0
    user_daily_usd: float = 0.0
    user_monthly_usd: float = 0.0
    chat_daily_usd: float = 0.0
    chat_monthly_usd: float = 0.0
    user_daily_tokens: int = 0
    user_monthly_tokens: int = 0
    chat_daily_tokens: int = 0
    chat_monthly_tokens: int = 0
    # Commands cost no model call, so they have their own, gentler allowance per user.
    user_commands_per_min: int = 0

    def any_on(self) -> bool:
        """Whether a turn is limited at all (the commands' allowance aside)."""
        return any(astuple(replace(self, user_commands_per_min=0)))

    def usd_on(self) -> bool:
        """Whether a budget in dollars is on (a model without a price would escape it)."""
        return any(
            budget.unit == "usd" for scope in ("user", "chat") for budget in self.budgets(scope)
        )

    def budgets(self, scope: str) -> list[Budget]:
        """The budgets that are on for "user" or "chat"."""
        candidates = [
            Budget(scope, period, unit, getattr(self, f"{scope}_{period}_{unit}"))
            for period in ("daily", "monthly")
            for unit in ("usd", "tokens")
        ]
        return [budget for budget in candidates if budget.limit > 0]


@dataclass(frozen=True, slots=True)
class Budget:
    scope: str  # "user" | "chat"
    period: str  # "daily" | "monthly"
    unit: str  # "usd" | "tokens"
    limit: float

    def spent(self, spending: Spending) -> float:
        if self.period == "daily":
            return spending.day_usd if self.unit == "usd" else spending.day_tokens
        return spending.month_usd if self.unit == "usd" else spending.month_tokens


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a turn is refused; `announce` False means stay silent (already said this minute)."""

    key: str  # the text key: limit.rate_user, limit.budget_chat...
    values: dict[str, object]
    announce: bool = True


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: Budget
    spent: float


class AbuseLimits:
    """Decides whether a turn may go to the model; owners are never limited."""

    def __init__(
        self,
        usage: UsageStore,
        config: LimitConfig,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        shared: RateCounterStore | None = None,  # several processes: count in the database
    ) -> None:
        self._usage = usage
        self.config = config
        self.active = config.any_on()  # asked on every turn: computed once
        self._now = now

        def rates(name: str, per_minute: int) -> Rates | None:
            if not per_minute:
                return None
            if shared is not None:
                return SharedRateLimiter(shared, name, per_minute)
            return LocalRates(RateLimiter(per_minute, clock))

        self._user_rate = rates("user", config.user_per_min)
        self._chat_rate = rates("chat", config.chat_per_min)
        self._command_rate = rates("command", config.user_commands_per_min)

    def tracked_keys(self) -> int:
        """How many keys the rate limiters hold now (for tests and the soak run)."""
        limiters = (self._user_rate, self._chat_rate, self._command_rate)
        return sum(len(r) for r in limiters if r is not None)

    async def admit_command(self, message: IncomingMessage, is_owner: bool) -> Refusal | None:
        """None when one more command of this user may run now (and it is counted)."""
        limiter = self._command_rate
        if is_owner or limiter is None:
            return None
        key = (message.key.platform, message.author.user_id)
        wait = await limiter.take(key)
        if not wait:
            return None
        return Refusal(
            "limit.rate_user",
            {"limit": self.config.user_commands_per_min, "seconds": max(1, round(wait))},
            announce=await limiter.first_refusal(key),
        )

    async def admit(self, message: IncomingMessage, is_owner: bool) -> Refusal | None:
        """None when the turn may run (and it is counted); else why not."""
        if is_owner or not self.active:
            return None
        platform = message.key.platform
        user_key = (platform, message.author.user_id)
        chat_key = (platform, message.key.chat_id)
        for limiter, key, text_key, limit in (
            (self._user_rate, user_key, "limit.rate_user", self.config.user_per_min),
            (self._chat_rate, chat_key, "limit.rate_chat", self.config.chat_per_min),
        ):
            if limiter is None:
                continue
            wait = await limiter.take(key)
            if wait:
                return Refusal(
                    text_key,
                    {"limit": limit, "seconds": max(1, round(wait))},
                    announce=await limiter.first_refusal(key),
                )
        for status in await self.statuses(message):
            if status.spent >= status.budget.limit:
                return Refusal(f"limit.budget_{status.budget.scope}", {"status": status})
        return None

    async def would_cross(
        self, message: IncomingMessage, is_owner: bool, cost_usd: float
    ) -> Refusal | None:
        """None when a request projected to cost `cost_usd` (an image, a spoken text) keeps
        every budget in dollars within its limit; checked before the request runs, because
        unlike a chat answer its whole price is known up front."""
        if is_owner or not self.active:
            return None
        for status in await self.statuses(message):
            budget = status.budget
            if budget.unit == "usd" and status.spent + cost_usd > budget.limit:
                return Refusal(
                    "limit.would_cross",
                    {"status": status, "cost": f"${cost_usd:.3f}"},
                )
        return None

    async def statuses(self, message: IncomingMessage) -> list[BudgetStatus]:
        """Every budget that is on, with what was spent in its current day or month (UTC)."""
        now = self._now()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        platform = message.key.platform
        statuses: list[BudgetStatus] = []
        user_budgets = self.config.budgets("user")
        if user_budgets:
            spending = await self._usage.user_spending(platform, message.author.user_id, day, month)
            statuses += [BudgetStatus(b, b.spent(spending)) for b in user_budgets]
        chat_budgets = self.config.budgets("chat")
        if chat_budgets:
            spending = await self._usage.chat_spending(platform, message.key.chat_id, day, month)
            statuses += [BudgetStatus(b, b.spent(spending)) for b in chat_budgets]
        return statuses


def refusal_text(refusal: Refusal, texts: Texts) -> str:
    status = refusal.values.get("status")
    if not isinstance(status, BudgetStatus):
        return texts.get(refusal.key, **refusal.values)
    budget = status.budget
    return texts.get(
        refusal.key,
        cost=refusal.values.get("cost", ""),
        scope=texts.get(f"limit.scope_{budget.scope}"),
        period=texts.get(f"limit.{budget.period}"),
        spent=_amount(texts, budget.unit, status.spent),
        limit=_amount(texts, budget.unit, budget.limit),
        renews=texts.get(f"limit.renews_{budget.period}"),
    )


def usage_lines(
    config: LimitConfig, statuses: list[BudgetStatus], texts: Texts, is_owner: bool
) -> list[str]:
    """What `/usage` adds: each limit that is on, and what is left of each budget."""
    if not config.any_on():
        return []
    if is_owner:
        return [texts.get("usage.owner")]
    lines = [texts.get("usage.limits_title")]
    for scope, limit in (("user", config.user_per_min), ("chat", config.chat_per_min)):
        if limit:
            lines.append(
                texts.get("usage.rate", scope=texts.get(f"limit.scope_{scope}"), limit=limit)
            )
    for status in statuses:
        budget = status.budget
        left = max(budget.limit - status.spent, 0)
        lines.append(
            texts.get(
                "usage.limit_left",
                scope=texts.get(f"limit.scope_{budget.scope}"),
                period=texts.get(f"limit.{budget.period}"),
                left=_amount(texts, budget.unit, left),
                limit=_amount(texts, budget.unit, budget.limit),
            )
        )
    return lines


def _amount(texts: Texts, unit: str, value: float) -> str:
    if unit == "usd":
        # Cents for budgets, but a single cheap turn must not show as $0.00.
        return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.6f}"
    return texts.get("limit.tokens", count=f"{int(value):,}")
