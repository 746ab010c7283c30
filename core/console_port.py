"""What the core shows and does for the owner's web console (bots/web_console): plain values and
one Protocol, as `core.boundary` is for the chat adapters.

The console computes nothing itself: usage is summed from the usage rows, a conversation's
window is planned by the turn's own planner, and a reset or a persona or model switch runs the
same command handlers as `/reset`, `/persona` and `/model` (core/console/backend.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from core.boundary import CommandReply, ConversationKey


@dataclass(frozen=True, slots=True)
class DayUsage:
    """One UTC day of one slice (all, a model, a platform or a kind)."""

    day: date
    turns: int  # usage rows: a chat answer, an image, a transcription...
    tokens: int  # prompt + completion
    cost_usd: float


@dataclass(frozen=True, slots=True)
class UsageSeries:
    """A slice's days, oldest first, one per day of the report (zeros included)."""

    name: str  # "all", or the model's, platform's or kind's name
    days: tuple[DayUsage, ...]

    @property
    def turns(self) -> int:
        return sum(day.turns for day in self.days)

    @property
    def tokens(self) -> int:
        return sum(day.tokens for day in self.days)

    @property
    def cost_usd(self) -> float:
        return sum(day.cost_usd for day in self.days)


@dataclass(frozen=True, slots=True)
class ChatCost:
    conversation_id: int
    key: ConversationKey
    turns: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """A budget that is on (core/policy/limits.py), and for "chat" budgets the chat nearest it."""

    scope: str  # "user" | "chat"
    period: str  # "daily" | "monthly"
    unit: str  # "usd" | "tokens"
    limit: float
    # The most any one chat (or user) has spent of it in the period, and who: "" for none.
    most_spent: float = 0.0
    most_spent_by: str = ""

    @property
    def left(self) -> float:
        return max(self.limit - self.most_spent, 0.0)


@dataclass(frozen=True, slots=True)
class UsageReport:
    first_day: date
    last_day: date  # today (UTC)
    total: UsageSeries
    by_model: tuple[UsageSeries, ...]
    by_platform: tuple[UsageSeries, ...]
    by_kind: tuple[UsageSeries, ...]
    costliest: tuple[ChatCost, ...]
    budgets: tuple[BudgetLine, ...]
    # Refused and failed turns per UTC day, by kind (`refused.rate_limit`, `refused.budget`,
    # `error.provider.server`...; core/turn/outcome_counts.py): a series' `turns` are the count.
    events_by_kind: tuple[UsageSeries, ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: int
    key: ConversationKey
    title: str  # the chat's title when the platform told it; "" (not stored yet)
    last_active: datetime | None  # its newest message
    messages: int
    cost_usd: float
    persona: str  # the active persona (the default when unset)
    model: str  # the model its next turn uses


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    id: int
    role: str
    author: str  # the group member's name; "" in a private chat and for the bot
    text: str
    tokens: int  # as stored (framing and images included), in `encoding`
    encoding: str
    created_at: datetime | None
    in_window: bool  # sent with the next turn


@dataclass(frozen=True, slots=True)
class Transcript:
    summary: ConversationSummary
    system_prompt: str
    system_tokens: int
    budget: int  # tokens the history may take in the next turn
    window_tokens: int  # what the window's messages take of it
    window_start_id: int  # the first message the next turn sends (0: none stored yet)
    lines: tuple[TranscriptLine, ...]
    shown_from: int = 0  # lines older than this message id are not shown (a long chat)
    hidden: bool = False  # transcripts are hidden (WEB_CONSOLE_TRANSCRIPTS=false): no lines
    personas: tuple[str, ...] = field(default=())  # what it may switch to
    models: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    provider: str
    context_window: int
    max_output_tokens: int
    encoding: str
    input_per_1m: float | None
    cached_input_per_1m: float | None
    output_per_1m: float | None
    capabilities: tuple[str, ...]  # "reasoning", "images", "tools", params it takes...
    estimated_tokens: bool  # counts are estimates (a tokenizer the bot does not have)


class ConsolePort(Protocol):
    """The core as the web console sees it."""

    async def usage_report(self, days: int = 30) -> UsageReport:
        """Turns, tokens and cost per UTC day for the last `days` days (today included)."""
        ...

    async def conversations(self, search: str = "", limit: int = 200) -> list[ConversationSummary]:
        """Conversations, most recently active first; `search` matches platform, chat id,
        persona or model (case-insensitive)."""
        ...

    async def transcript(self, conversation_id: int) -> Transcript | None:
        """A conversation with the window its next turn would send; None when there is none."""
        ...

    async def run_command(
        self, conversation_id: int, command: str, args: str = ""
    ) -> CommandReply | None:
        """Run `/reset`, `/persona NAME` or `/model NAME` in a conversation as its owner would;
        None when the conversation does not exist."""
        ...

    def model_catalog(self) -> list[ModelEntry]:
        """Every model of the catalog (config/models.toml), by provider then name."""
        ...
