"""All reads and writes of conversation memory, usage and custom personas.

Each method is one short transaction; nothing here holds a session across a model call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.params import ChatParams
from core.storage.retry import one_writer, retried
from core.storage.schema import ConversationRow, CustomPersonaRow, MessageRow, UsageRow
from core.types import ConversationKey


@dataclass(frozen=True, slots=True)
class ConversationState:
    id: int
    key: ConversationKey
    persona: str | None
    model: str | None
    params: ChatParams
    listen: bool
    answer_all: bool
    trigger: str | None
    everyone_can_manage: bool
    window_start_id: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    role: str
    content: str
    tokens: int
    encoding: str
    author_name: str | None = None


@dataclass(frozen=True, slots=True)
class UsageTotal:
    model: str
    requests: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class Spending:
    """Tokens (prompt + completion) and dollars since the start of the day and of the month."""

    day_tokens: int
    day_usd: float
    month_tokens: int
    month_usd: float


@dataclass(frozen=True, slots=True)
class NewMessage:
    role: str
    content: str
    tokens: int
    encoding: str
    author_id: str | None = None
    author_name: str | None = None
    platform_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    user_id: str | None
    model: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float


class Repository:
    """Every public method retries transient database faults (see `retried`)."""

    def __init__(self, engine: AsyncEngine, retry_s: float = 30.0) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.retry_s = retry_s
        self.write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._dialect = engine.dialect.name

    @retried
    async def conversation(self, key: ConversationKey) -> ConversationState:
        """The conversation's state, created with defaults on first contact."""
        async with self._sessions() as session:
            row = await _find_conversation(session, key)
            if row is None:
                row = ConversationRow(
                    platform=key.platform,
                    chat_id=key.chat_id,
                    thread_id=key.thread_id,
                    params={},
                    listen=False,
                    answer_all=False,
                    everyone_can_manage=False,
                    window_start_id=0,
                )
                session.add(row)
                try:
                    await session.commit()
                except IntegrityError:  # created concurrently by another process
                    await session.rollback()
                    row = await _find_conversation(session, key)
                    assert row is not None
            return _state(row, key)

    @retried
    @one_writer
    async def update_conversation(self, conversation_id: int, **values: Any) -> None:
        if "params" in values and isinstance(values["params"], ChatParams):
            values["params"] = values["params"].to_json()
        async with self._sessions.begin() as session:
            await session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(**values)
            )

    async def add_message(self, conversation_id: int, message: NewMessage) -> int | None:
        """Store a message; None when this platform message was already stored (a redelivery)."""
        stored_id, _ = await self.add_message_and_read(conversation_id, message, 0, 0)
        return stored_id

    @retried
    @one_writer
    async def add_message_and_read(
        self, conversation_id: int, message: NewMessage, start_id: int, limit: int
    ) -> tuple[int | None, list[StoredMessage]]:
        """Store a message, then read the newest `limit` messages from `start_id` on, newest first.

        One transaction and no separate read for the window: a turn's time is mostly round trips.
        The id is None (and nothing is read) when this platform message was already stored.
        """
        values = {
            "conversation_id": conversation_id,
            "role": message.role,
            "content": message.content,
            "tokens": message.tokens,
            "encoding": message.encoding,
            "author_id": message.author_id,
            "author_name": message.author_name,
            "platform_message_id": message.platform_message_id,
        }
        async with self._sessions.begin() as session:
            stored_id = await session.scalar(
                self._insert_new(values).on_conflict_do_nothing().returning(MessageRow.id)
            )
            if stored_id is None or limit <= 0:
                return stored_id, []
            rows = (await session.execute(_newest_first(conversation_id, start_id, limit))).all()
        return stored_id, [_message(row) for row in rows]

    def _insert_new(self, values: dict[str, Any]) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that can skip rows violating a unique constraint (both databases have it)."""
        if self._dialect == "sqlite":
            return sqlite.insert(MessageRow).values(values)
        return postgresql.insert(MessageRow).values(values)

    @retried
    async def newest_messages(
        self, conversation_id: int, start_id: int, limit: int
    ) -> list[StoredMessage]:
        """Newest first: the messages from `start_id` on, at most `limit`."""
        async with self._sessions() as session:
            rows = (await session.execute(_newest_first(conversation_id, start_id, limit))).all()
        return [_message(row) for row in rows]

    @retried
    async def is_newest_unanswered(self, conversation_id: int, platform_message_id: str) -> bool:
        """Whether this platform message is the conversation's newest stored message (so it has
        no answer yet)."""
        query = (
            select(MessageRow.role, MessageRow.platform_message_id)
            .where(MessageRow.conversation_id == conversation_id)
            .order_by(MessageRow.id.desc())
            .limit(1)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return row is not None and row.role == "user" and row[1] == platform_message_id

    @retried
    @one_writer
    async def complete_turn(
        self,
        conversation_id: int,
        answer: NewMessage | None,
        usage: UsageRecord | None,
        window_start_id: int | None = None,
    ) -> None:
        """Store the answer, its usage and the window's new start (after a cut) together, so no
        turn is ever half-written."""
        statements: list[Insert | Any] = []
        if answer is not None:
            statements.append(
                insert(MessageRow).values(
                    conversation_id=conversation_id,
                    role=answer.role,
                    content=answer.content,
                    tokens=answer.tokens,
                    encoding=answer.encoding,
                    author_id=answer.author_id,
                    author_name=answer.author_name,
                )
            )
        if usage is not None:
            statements.append(
                insert(UsageRow).values(
                    conversation_id=conversation_id,
                    user_id=usage.user_id,
                    model=usage.model,
                    prompt_tokens=usage.prompt_tokens,
                    cached_tokens=usage.cached_tokens,
                    completion_tokens=usage.completion_tokens,
                    cost_usd=usage.cost_usd,
                )
            )
        if window_start_id is not None:
            statements.append(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(window_start_id=window_start_id)
            )
        if not statements:
            return
        async with self._sessions.begin() as session:
            for statement in statements:
                await session.execute(statement)

    @retried
    async def messages_from(self, conversation_id: int, start_id: int) -> list[StoredMessage]:
        """The window's messages, oldest first."""
        query = _MESSAGE_COLUMNS.where(
            MessageRow.conversation_id == conversation_id, MessageRow.id >= start_id
        ).order_by(MessageRow.id)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_message(row) for row in rows]

    @retried
    @one_writer
    async def recount(self, counts: Sequence[tuple[int, int]], encoding: str) -> None:
        """Store new token counts (after the chat switched to a model with another encoding)."""
        async with self._sessions.begin() as session:
            for message_id, tokens in counts:
                await session.execute(
                    update(MessageRow)
                    .where(MessageRow.id == message_id)
                    .values(tokens=tokens, encoding=encoding)
                )

    @retried
    async def last_message_id(self, conversation_id: int) -> int:
        query = select(func.max(MessageRow.id)).where(MessageRow.conversation_id == conversation_id)
        async with self._sessions() as session:
            return (await session.scalar(query)) or 0

    @retried
    @one_writer
    async def delete_history(self, conversation_id: int) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(MessageRow).where(MessageRow.conversation_id == conversation_id)
            )
            await session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(window_start_id=0)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    @retried
    @one_writer
    async def forget_user(self, platform: str, user_id: str) -> tuple[int, int]:
        """Delete a user's messages and usage rows on one platform; (messages, usage rows)."""
        on_platform = select(ConversationRow.id).where(ConversationRow.platform == platform)
        async with self._sessions.begin() as session:
            messages = await session.execute(
                delete(MessageRow).where(
                    MessageRow.author_id == user_id,
                    MessageRow.role == "user",
                    MessageRow.conversation_id.in_(on_platform),
                )
            )
            usage = await session.execute(
                delete(UsageRow).where(
                    UsageRow.user_id == user_id, UsageRow.conversation_id.in_(on_platform)
                )
            )
        return int(getattr(messages, "rowcount", 0) or 0), int(getattr(usage, "rowcount", 0) or 0)

    @retried
    async def usage_totals(
        self, conversation_id: int, since: datetime | None = None
    ) -> list[UsageTotal]:
        query = (
            select(
                UsageRow.model,
                func.count(),
                func.sum(UsageRow.prompt_tokens),
                func.sum(UsageRow.cached_tokens),
                func.sum(UsageRow.completion_tokens),
                func.sum(UsageRow.cost_usd),
            )
            .where(UsageRow.conversation_id == conversation_id)
            .group_by(UsageRow.model)
            .order_by(UsageRow.model)
        )
        if since is not None:
            query = query.where(UsageRow.created_at >= since)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            UsageTotal(
                model=r[0],
                requests=int(r[1]),
                prompt_tokens=int(r[2] or 0),
                cached_tokens=int(r[3] or 0),
                completion_tokens=int(r[4] or 0),
                cost_usd=float(r[5] or 0.0),
            )
            for r in rows
        ]

    @retried
    async def user_spending(
        self, platform: str, user_id: str, day: datetime, month: datetime
    ) -> Spending:
        """What one user spent on one platform today and this month, in every chat."""
        on_platform = select(ConversationRow.id).where(ConversationRow.platform == platform)
        return await self._spending(
            day, month, UsageRow.user_id == user_id, UsageRow.conversation_id.in_(on_platform)
        )

    @retried
    async def chat_spending(
        self, platform: str, chat_id: str, day: datetime, month: datetime
    ) -> Spending:
        """What one chat (all its topics or threads) spent today and this month."""
        in_chat = select(ConversationRow.id).where(
            ConversationRow.platform == platform, ConversationRow.chat_id == chat_id
        )
        return await self._spending(day, month, UsageRow.conversation_id.in_(in_chat))

    async def _spending(self, day: datetime, month: datetime, *where: Any) -> Spending:
        since = min(day, month)
        tokens = UsageRow.prompt_tokens + UsageRow.completion_tokens
        today = UsageRow.created_at >= day
        query = select(
            func.sum(case((today, tokens), else_=0)),
            func.sum(case((today, UsageRow.cost_usd), else_=0.0)),
            func.sum(tokens),
            func.sum(UsageRow.cost_usd),
        ).where(UsageRow.created_at >= since, *where)
        async with self._sessions() as session:
            row = (await session.execute(query)).one()
        return Spending(
            day_tokens=int(row[0] or 0),
            day_usd=float(row[1] or 0.0),
            month_tokens=int(row[2] or 0),
            month_usd=float(row[3] or 0.0),
        )

    @retried
    @one_writer
    async def delete_messages_before(self, cutoff: datetime) -> int:
        """Retention: delete every stored message older than `cutoff`; how many went."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(MessageRow).where(MessageRow.created_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    @retried
    async def custom_personas(self, platform: str, space_id: str) -> list[CustomPersonaRow]:
        query = (
            select(CustomPersonaRow)
            .where(CustomPersonaRow.platform == platform, CustomPersonaRow.space_id == space_id)
            .order_by(CustomPersonaRow.name)
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    @retried
    @one_writer
    async def add_custom_persona(self, row: CustomPersonaRow) -> bool:
        """False when a persona of that name already exists in that space."""
        async with self._sessions() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
            return True

    @retried
    @one_writer
    async def delete_custom_persona(self, platform: str, space_id: str, name: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(CustomPersonaRow).where(
                    CustomPersonaRow.platform == platform,
                    CustomPersonaRow.space_id == space_id,
                    CustomPersonaRow.name == name,
                )
            )
        return bool(getattr(result, "rowcount", 0))


# Plain columns, not ORM objects: a window is hundreds of rows, read on every turn.
# StoredMessage's fields, in order.
_MESSAGE_COLUMNS = select(
    MessageRow.id,
    MessageRow.role,
    MessageRow.content,
    MessageRow.tokens,
    MessageRow.encoding,
    MessageRow.author_name,
)


def _newest_first(conversation_id: int, start_id: int, limit: int) -> Any:
    return (
        _MESSAGE_COLUMNS.where(
            MessageRow.conversation_id == conversation_id, MessageRow.id >= start_id
        )
        .order_by(MessageRow.id.desc())
        .limit(limit)
    )


def _message(row: Any) -> StoredMessage:
    return StoredMessage(*row)


async def _find_conversation(session: AsyncSession, key: ConversationKey) -> ConversationRow | None:
    query = select(ConversationRow).where(
        ConversationRow.platform == key.platform,
        ConversationRow.chat_id == key.chat_id,
        ConversationRow.thread_id == key.thread_id,
    )
    return (await session.scalars(query)).first()


def _state(row: ConversationRow, key: ConversationKey) -> ConversationState:
    return ConversationState(
        id=row.id,
        key=key,
        persona=row.persona,
        model=row.model,
        params=ChatParams.from_json(row.params or {}),
        listen=row.listen,
        answer_all=row.answer_all,
        trigger=row.trigger,
        everyone_can_manage=row.everyone_can_manage,
        window_start_id=row.window_start_id,
    )
