"""Reminders: stored per conversation, claimed for delivery with one conditional UPDATE so that
each is sent by one bot process only, however many share the database.

A claim is a lease: `claimed_by` / `claimed_at` are set together with `attempts + 1`, and a
claim older than the lease may be taken again (the process that held it died, or its platform
failed). The claiming statement re-checks its whole condition on the row it updates, so two
processes (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time) never both win.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from core.boundary import ConversationKey
from core.storage.engine import Database
from core.storage.retry import Store, retried
from core.storage.schema import ConversationRow, MessageRow, ReminderRow

PENDING, DELIVERED, CANCELLED, FAILED = "pending", "delivered", "cancelled", "failed"


@dataclass(frozen=True, slots=True)
class NewReminder:
    key: ConversationKey
    user_id: str
    user_name: str
    text: str
    due_at: datetime  # aware
    timezone: str  # IANA name it was set in: the time is shown back in it
    language: str | None = None  # the asker's: the reminder is worded in it


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    key: ConversationKey
    user_id: str
    user_name: str
    text: str
    due_at: datetime  # aware, UTC
    timezone: str
    state: str
    attempts: int = 0
    language: str | None = None


class Added(enum.Enum):
    ADDED = "added"
    FULL = "full"  # the conversation already has its maximum of pending reminders


_COLUMNS = (
    ReminderRow.id,
    ReminderRow.platform,
    ReminderRow.chat_id,
    ReminderRow.thread_id,
    ReminderRow.user_id,
    ReminderRow.user_name,
    ReminderRow.text,
    ReminderRow.due_at,
    ReminderRow.timezone,
    ReminderRow.state,
    ReminderRow.attempts,
    ReminderRow.language,
)


def _reminder(row: tuple[object, ...]) -> Reminder:
    rid, platform, chat_id, thread_id, user_id, user_name, text, due_at, tz, state = row[:10]
    attempts, language = row[10:]
    return Reminder(
        id=int(rid),  # type: ignore[call-overload]
        key=ConversationKey(str(platform), str(chat_id), str(thread_id)),
        user_id=str(user_id),
        user_name=str(user_name),
        text=str(text),
        due_at=_aware(due_at),  # type: ignore[arg-type]
        timezone=str(tz),
        state=str(state),
        attempts=int(attempts),  # type: ignore[call-overload]
        language=None if language is None else str(language),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in(key: ConversationKey) -> ColumnElement[bool]:
    return and_(
        ReminderRow.platform == key.platform,
        ReminderRow.chat_id == key.chat_id,
        ReminderRow.thread_id == key.thread_id,
    )


class ReminderStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        self._postgres = database.dialect == "postgresql"

    @retried
    async def add(self, reminder: NewReminder, limit: int, now: datetime) -> Reminder | Added:
        """Store a pending reminder unless its conversation already has `limit` of them."""
        key = reminder.key
        count = select(func.count()).where(_in(key), ReminderRow.state == PENDING)
        values = {
            "platform": key.platform,
            "chat_id": key.chat_id,
            "thread_id": key.thread_id,
            "user_id": reminder.user_id,
            "user_name": reminder.user_name[:128],
            "text": reminder.text,
            "due_at": reminder.due_at.astimezone(UTC),
            "timezone": reminder.timezone,
            "language": reminder.language,
            "state": PENDING,
            "attempts": 0,
            "created_at": now.astimezone(UTC),
        }

        def work(connection: Connection) -> Reminder | Added:
            if self._postgres:
                # Two reminders set at once in one chat must not both pass the count (SQLite
                # has one writer at a time already).
                lock = func.pg_advisory_xact_lock(func.hashtext(f"reminders:{key}"))
                connection.execute(select(lock))
            if connection.execute(count).scalar_one() >= limit:
                return Added.FULL
            new_id = connection.execute(insert(ReminderRow).values(values)).inserted_primary_key
            assert new_id is not None
            return Reminder(
                id=int(new_id[0]),
                key=key,
                user_id=reminder.user_id,
                user_name=values["user_name"],  # type: ignore[arg-type]
                text=reminder.text,
                due_at=reminder.due_at.astimezone(UTC),
                timezone=reminder.timezone,
                state=PENDING,
                language=reminder.language,
            )

        return await self.database.run(work)

    @retried
    async def author_name(self, key: ConversationKey, user_id: str) -> str:
        """The name the user last wrote under in this conversation ("" if none is stored):
        a reminder says whom it is for."""
        query = (
            select(MessageRow.author_name)
            .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
            .where(
                ConversationRow.platform == key.platform,
                ConversationRow.chat_id == key.chat_id,
                ConversationRow.thread_id == key.thread_id,
                MessageRow.author_id == user_id,
                MessageRow.author_name.is_not(None),
            )
            .order_by(MessageRow.id.desc())
            .limit(1)
        )
        name = await self.database.read(lambda c: c.execute(query).scalar())
        return str(name or "")

    @retried
    async def pending(self, key: ConversationKey) -> list[Reminder]:
        """The conversation's pending reminders, soonest first."""
        query = (
            select(*_COLUMNS)
            .where(_in(key), ReminderRow.state == PENDING)
            .order_by(ReminderRow.due_at, ReminderRow.id)
        )
        return await self.database.run(lambda c: [_reminder(tuple(r)) for r in c.execute(query)])

    @retried
    async def get(self, key: ConversationKey, reminder_id: int) -> Reminder | None:
        query = select(*_COLUMNS).where(_in(key), ReminderRow.id == reminder_id)
        row = await self.database.run(lambda c: c.execute(query).first())
        return None if row is None else _reminder(tuple(row))

    @retried
    async def cancel(self, key: ConversationKey, reminder_id: int) -> bool:
        """Cancel a pending reminder of this conversation; False when there is none (any more)."""
        statement = (
            update(ReminderRow)
            .where(_in(key), ReminderRow.id == reminder_id, ReminderRow.state == PENDING)
            .values(state=CANCELLED)
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount > 0)

    @retried
    async def next_wake(
        self, platforms: Collection[str], lease: timedelta, max_attempts: int
    ) -> datetime | None:
        """When the soonest pending reminder of `platforms` falls due (or its lease ends)."""
        if not platforms:
            return None
        base = (
            ReminderRow.state == PENDING,
            ReminderRow.platform.in_(list(platforms)),
            ReminderRow.attempts < max_attempts,
        )
        unclaimed = select(func.min(ReminderRow.due_at)).where(
            *base, ReminderRow.claimed_at.is_(None)
        )
        claimed = select(func.min(ReminderRow.claimed_at)).where(
            *base, ReminderRow.claimed_at.is_not(None)
        )

        def work(connection: Connection) -> datetime | None:
            due = connection.execute(unclaimed).scalar()
            held = connection.execute(claimed).scalar()
            times = [_aware(due)] if due is not None else []
            if held is not None:
                times.append(_aware(held) + lease)
            return min(times, default=None)

        return await self.database.read(work)

    @retried
    async def claim_due(
        self,
        platforms: Collection[str],
        owner: str,
        now: datetime,
        lease: timedelta,
        max_attempts: int,
        limit: int = 50,
    ) -> list[Reminder]:
        """Claim up to `limit` reminders due by `now` (unclaimed, or whose claim is older than
        `lease`) for `owner`; another process's concurrent claim never gets the same ones."""
        if not platforms:
            return []
        now = now.astimezone(UTC)

        def claimable(row: type[ReminderRow]) -> ColumnElement[bool]:
            return and_(
                row.state == PENDING,
                row.platform.in_(list(platforms)),
                row.due_at <= now,
                row.attempts < max_attempts,
                or_(row.claimed_at.is_(None), row.claimed_at <= now - lease),
            )

        # An alias: the subquery must not be correlated with the row being updated.
        candidate = aliased(ReminderRow)
        candidates = (
            select(candidate.id).where(claimable(candidate)).order_by(candidate.due_at).limit(limit)
        )
        if self._postgres:
            # Picked once, in a materialized CTE: as `id IN (subquery)` PostgreSQL may run the
            # subquery again for every row (a nested-loop semi-join), each time locking and
            # returning other rows, so that one claim took every due row whatever the LIMIT.
            picked = (
                candidates.with_for_update(skip_locked=True)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            chosen: ColumnElement[bool] = ReminderRow.id == picked.c.id
        else:  # SQLite runs an uncorrelated IN subquery once, and one writer at a time
            chosen = ReminderRow.id.in_(candidates.scalar_subquery())
        statement = (
            update(ReminderRow)
            # The condition again, on the row being updated: under PostgreSQL's read committed
            # a row another claim changed meanwhile is re-checked and left alone.
            .where(chosen, claimable(ReminderRow))
            .values(claimed_by=owner, claimed_at=now, attempts=ReminderRow.attempts + 1)
            .returning(*_COLUMNS)
        )
        rows = await self.database.run(lambda c: [tuple(r) for r in c.execute(statement)])
        return sorted((_reminder(row) for row in rows), key=lambda r: (r.due_at, r.id))

    @retried
    async def finish(self, reminder_id: int, owner: str, state: str, now: datetime) -> bool:
        """Mark a reminder this process claimed as delivered (or failed for good); False when
        its claim was lost meanwhile (its lease ran out and another process took it)."""
        statement = (
            update(ReminderRow)
            .where(
                ReminderRow.id == reminder_id,
                ReminderRow.claimed_by == owner,
                ReminderRow.state == PENDING,
            )
            .values(state=state, delivered_at=now.astimezone(UTC) if state == DELIVERED else None)
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount > 0)

    @retried
    async def forget_user(self, user_id: str, platform: str) -> int:
        """Delete every reminder the user set on this platform (/forget): they quote what the
        user wrote. How many."""
        statement = delete(ReminderRow).where(
            ReminderRow.user_id == user_id, ReminderRow.platform == platform
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount)
