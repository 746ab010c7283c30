"""Read-only queries for the owner's web console: usage summed per UTC day, refused and failed
turns per day, conversations with their message counts and cost, a transcript's newest
messages. Nothing here is on a turn's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal, select

from core.boundary import ConversationKey
from core.storage.engine import Database
from core.storage.retry import Store, retried
from core.storage.schema import ConversationRow, MessageRow, TurnEventRow, UsageRow

FORGOTTEN = "forgotten"  # usage kept after /forget deleted its private chat: no platform left


@dataclass(frozen=True, slots=True)
class UsageBucket:
    day: date
    model: str
    platform: str
    kind: str
    turns: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    id: int
    key: ConversationKey
    persona: str | None
    model: str | None
    window_start_id: int
    messages: int
    last_active: datetime | None
    cost_usd: float


@dataclass(frozen=True, slots=True)
class MessageLine:
    id: int
    role: str
    author_name: str | None
    content: str
    tokens: int
    encoding: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class TopSpender:
    who: str  # "platform:chat" or "platform:user"
    usd: float
    tokens: int


class ConsoleQueries(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        self._day = _utc_day(database.dialect)

    @retried
    async def usage_by_day(self, since: datetime) -> list[UsageBucket]:
        """Usage rows since `since`, summed per UTC day, model, platform and kind."""
        platform = func.coalesce(ConversationRow.platform, literal(FORGOTTEN))
        day = self._day(UsageRow.created_at)
        query = (
            select(
                day,
                UsageRow.model,
                platform,
                UsageRow.kind,
                func.count(),
                func.sum(UsageRow.prompt_tokens + UsageRow.completion_tokens),
                func.sum(UsageRow.cost_usd),
            )
            .select_from(UsageRow)
            .outerjoin(ConversationRow, ConversationRow.id == UsageRow.conversation_id)
            .where(UsageRow.created_at >= since)
            .group_by(day, UsageRow.model, platform, UsageRow.kind)
        )
        rows = await self.database.read(lambda c: c.execute(query).all())
        return [
            UsageBucket(
                day=_as_date(r[0]),
                model=r[1],
                platform=r[2],
                kind=r[3],
                turns=int(r[4]),
                tokens=int(r[5] or 0),
                cost_usd=float(r[6] or 0.0),
            )
            for r in rows
        ]

    @retried
    async def turn_events(self, since: date) -> list[tuple[date, str, str, int]]:
        """(day, platform, kind, count) of refused and failed turns from `since` on."""
        row = TurnEventRow
        query = select(row.day, row.platform, row.kind, row.count).where(row.day >= since)
        rows = await self.database.read(lambda c: c.execute(query).all())
        return [(_as_date(r[0]), r[1], r[2], int(r[3])) for r in rows]

    @retried
    async def costliest(self, since: datetime, limit: int) -> list[tuple[int, int, int, float]]:
        """(conversation id, turns, tokens, cost) of the conversations that cost most since."""
        cost = func.sum(UsageRow.cost_usd)
        query = (
            select(
                UsageRow.conversation_id,
                func.count(),
                func.sum(UsageRow.prompt_tokens + UsageRow.completion_tokens),
                cost,
            )
            .where(UsageRow.created_at >= since, UsageRow.conversation_id.is_not(None))
            .group_by(UsageRow.conversation_id)
            .order_by(cost.desc(), func.count().desc())
            .limit(limit)
        )
        rows = await self.database.read(lambda c: c.execute(query).all())
        return [(int(r[0] or 0), int(r[1]), int(r[2] or 0), float(r[3] or 0.0)) for r in rows]

    @retried
    async def top_spender(self, scope: str, since: datetime, unit: str) -> TopSpender | None:
        """The chat (all its topics) or user that spent most since `since`, in dollars or
        tokens (`unit`)."""
        tokens = UsageRow.prompt_tokens + UsageRow.completion_tokens
        who: Any = ConversationRow.chat_id if scope == "chat" else UsageRow.user_id
        cost = func.sum(UsageRow.cost_usd)
        order = (cost.desc(), func.sum(tokens).desc())
        query = (
            select(ConversationRow.platform, who, cost, func.sum(tokens))
            .select_from(UsageRow)
            .join(ConversationRow, ConversationRow.id == UsageRow.conversation_id)
            .where(UsageRow.created_at >= since, who.is_not(None))
            .group_by(ConversationRow.platform, who)
            .order_by(*(order if unit == "usd" else order[::-1]))
            .limit(1)
        )
        row = await self.database.read(lambda c: c.execute(query).first())
        if row is None:
            return None
        return TopSpender(f"{row[0]}:{row[1]}", float(row[2] or 0.0), int(row[3] or 0))

    @retried
    async def conversations(self, limit: int) -> list[ConversationFacts]:
        """Conversations, most recently active first (by their newest message)."""
        messages = (
            select(
                MessageRow.conversation_id.label("cid"),
                func.count().label("n"),
                func.max(MessageRow.created_at).label("last"),
            )
            .group_by(MessageRow.conversation_id)
            .subquery()
        )
        spent = (
            select(UsageRow.conversation_id.label("cid"), func.sum(UsageRow.cost_usd).label("usd"))
            .where(UsageRow.conversation_id.is_not(None))
            .group_by(UsageRow.conversation_id)
            .subquery()
        )
        last = func.coalesce(messages.c.last, ConversationRow.updated_at)
        query = (
            select(
                *_CONVERSATION_COLUMNS,
                func.coalesce(messages.c.n, 0),
                messages.c.last,
                func.coalesce(spent.c.usd, 0.0),
            )
            .outerjoin(messages, messages.c.cid == ConversationRow.id)
            .outerjoin(spent, spent.c.cid == ConversationRow.id)
            .order_by(last.desc(), ConversationRow.id.desc())
            .limit(limit)
        )
        rows = await self.database.read(lambda c: c.execute(query).all())
        return [_facts(row) for row in rows]

    @retried
    async def conversation(self, conversation_id: int) -> ConversationFacts | None:
        """One conversation by its id; None when there is none (never created by asking)."""

        def work(connection: Connection) -> ConversationFacts | None:
            row = connection.execute(
                select(*_CONVERSATION_COLUMNS).where(ConversationRow.id == conversation_id)
            ).first()
            if row is None:
                return None
            count, last = connection.execute(
                select(func.count(), func.max(MessageRow.created_at)).where(
                    MessageRow.conversation_id == conversation_id
                )
            ).one()
            usd = connection.execute(
                select(func.coalesce(func.sum(UsageRow.cost_usd), 0.0)).where(
                    UsageRow.conversation_id == conversation_id
                )
            ).scalar()
            return _facts((*row, count, last, usd))

        return await self.database.read(work)

    @retried
    async def newest_lines(self, conversation_id: int, limit: int) -> list[MessageLine]:
        """The conversation's newest `limit` messages, oldest first."""
        query = (
            select(
                MessageRow.id,
                MessageRow.role,
                MessageRow.author_name,
                MessageRow.content,
                MessageRow.tokens,
                MessageRow.encoding,
                MessageRow.created_at,
            )
            .where(MessageRow.conversation_id == conversation_id)
            .order_by(MessageRow.id.desc())
            .limit(limit)
        )
        rows = await self.database.read(lambda c: c.execute(query).all())
        return [MessageLine(*row) for row in reversed(rows)]


_CONVERSATION_COLUMNS = (
    ConversationRow.id,
    ConversationRow.platform,
    ConversationRow.chat_id,
    ConversationRow.thread_id,
    ConversationRow.persona,
    ConversationRow.model,
    ConversationRow.window_start_id,
)


def _facts(row: Any) -> ConversationFacts:
    return ConversationFacts(
        id=int(row[0]),
        key=ConversationKey(row[1], row[2], row[3] or ""),
        persona=row[4],
        model=row[5],
        window_start_id=int(row[6] or 0),
        messages=int(row[7] or 0),
        last_active=_as_datetime(row[8]),
        cost_usd=float(row[9] or 0.0),
    )


def _utc_day(dialect: str) -> Any:
    """An expression for a timestamp's UTC calendar day. SQLite stores UTC text already;
    PostgreSQL's date() would use the session's time zone."""

    def day(column: ColumnElement[datetime]) -> Any:
        if dialect == "postgresql":
            return func.date(func.timezone("UTC", column))
        return func.date(column)

    return day


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
