"""All reads and writes of conversation memory, usage and custom personas.

Each method is one short transaction; nothing here holds a connection across a model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.boundary import ConversationKey
from core.model.params import ChatParams
from core.storage.engine import Database
from core.storage.records import (
    ConversationState,
    CustomPersona,
    NewMessage,
    Spending,
    StoredMessage,
    UsageRecord,
    UsageTotal,
)
from core.storage.retry import retried
from core.storage.schema import ConversationRow, CustomPersonaRow, MessageRow, UsageRow
from core.storage.window_cache import DEFAULT_CONVERSATIONS, WindowRows, WindowShape


class Repository:
    """Every public method is one transaction (see `Database.run`) and retries transient
    database faults (see `retried`)."""

    def __init__(
        self,
        database: Database,
        retry_s: float = 30.0,
        window_cache_size: int = DEFAULT_CONVERSATIONS,
    ) -> None:
        self.database = database
        self.retry_s = retry_s
        self.windows: WindowRows[StoredMessage] = WindowRows(window_cache_size)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        # Built once: SQLAlchemy then reuses each statement's compiled form on every turn.
        self._insert_delivery = (
            dialect.insert(MessageRow).on_conflict_do_nothing().returning(MessageRow.id)
        )
        self._insert_conversation = dialect.insert(ConversationRow).on_conflict_do_nothing()
        self._insert_persona = (
            dialect.insert(CustomPersonaRow).on_conflict_do_nothing().returning(CustomPersonaRow.id)
        )

    @retried
    async def conversation(self, key: ConversationKey) -> ConversationState:
        """The conversation's state, created with defaults on first contact."""
        found = await self.database.read(lambda c: _find_conversation(c, key))
        if found is None:
            found = await self.database.run(lambda c: self._create_conversation(c, key))
        return _state(found, key)

    def _create_conversation(self, connection: Connection, key: ConversationKey) -> Row[Any]:
        # Another process may create it at the same moment: then its row is the one read back.
        connection.execute(
            self._insert_conversation,
            {
                "platform": key.platform,
                "chat_id": key.chat_id,
                "thread_id": key.thread_id,
                "params": {},
                "listen": False,
                "answer_all": False,
                "everyone_can_manage": False,
                "window_start_id": 0,
            },
        )
        row = _find_conversation(connection, key)
        assert row is not None
        return row

    @retried
    async def update_conversation(self, conversation_id: int, **values: Any) -> None:
        if "params" in values and isinstance(values["params"], ChatParams):
            values["params"] = values["params"].to_json()
        statement = (
            update(ConversationRow).where(ConversationRow.id == conversation_id).values(**values)
        )
        await self.database.run(lambda c: c.execute(statement))

    async def add_message(self, conversation_id: int, message: NewMessage) -> int | None:
        """Store a message; None when this platform message was already stored (a redelivery)."""
        stored_id, _ = await self.add_message_and_read(conversation_id, message, 0, 0)
        return stored_id

    @retried
    async def add_message_and_read(
        self, conversation_id: int, message: NewMessage, start_id: int, limit: int
    ) -> tuple[int | None, list[StoredMessage]]:
        """Store a message, then read the newest `limit` messages from `start_id` on, newest first.

        One transaction and no separate read for the window: a turn's time is mostly round trips.
        The id is None (and nothing is read) when this platform message was already stored.
        """
        values = _message_values(conversation_id, message)
        cached = self.windows.get(conversation_id, start_id) if limit > 0 else None

        def work(connection: Connection) -> tuple[int | None, tuple[StoredMessage, ...], bool]:
            stored_id = connection.execute(self._insert_delivery, values).scalar()
            if stored_id is None or limit <= 0:
                return stored_id, (), False
            if cached is not None:
                count, newest_id, id_sum = connection.execute(
                    _WINDOW_SHAPE, {"conversation": conversation_id, "start": start_id}
                ).one()
                shape = WindowShape(count, newest_id, None if id_sum is None else int(id_sum))
                rows = cached.extended(_stored(stored_id, message), shape)
                if rows is not None and len(rows) <= limit:
                    return stored_id, rows, True
            rows = tuple(_newest_first(connection, conversation_id, start_id, limit))
            return stored_id, rows, len(rows) < limit  # fewer than asked: the whole window

        stored_id, rows, whole = await self.database.run(work)
        if stored_id is not None and limit > 0:
            if whole:
                self.windows.put(conversation_id, start_id, rows)
            else:
                self.windows.forget(conversation_id)
        return stored_id, list(rows)

    @retried
    async def newest_messages(
        self, conversation_id: int, start_id: int, limit: int
    ) -> list[StoredMessage]:
        """Newest first: the messages from `start_id` on, at most `limit`."""
        return await self.database.run(lambda c: _newest_first(c, conversation_id, start_id, limit))

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
        row = await self.database.run(lambda c: c.execute(query).first())
        return row is not None and row.role == "user" and row[1] == platform_message_id

    @retried
    async def complete_turn(
        self,
        conversation_id: int,
        answer: NewMessage | None,
        usage: UsageRecord | None,
        window_start_id: int | None = None,
    ) -> None:
        """Store the answer, its usage and the window's new start (after a cut) together, so no
        turn is ever half-written."""
        if answer is None and usage is None and window_start_id is None:
            return

        def work(connection: Connection) -> int | None:
            answer_id = None
            if answer is not None:
                answer_id = connection.execute(
                    _INSERT_ANSWER, _message_values(conversation_id, answer)
                ).scalar_one()
            if usage is not None:
                connection.execute(
                    _INSERT_USAGE,
                    {
                        "conversation_id": conversation_id,
                        "user_id": usage.user_id,
                        "model": usage.model,
                        "prompt_tokens": usage.prompt_tokens,
                        "cached_tokens": usage.cached_tokens,
                        "completion_tokens": usage.completion_tokens,
                        "cost_usd": usage.cost_usd,
                    },
                )
            if window_start_id is not None:
                connection.execute(
                    _MOVE_WINDOW, {"conversation": conversation_id, "start": window_start_id}
                )
            return answer_id

        answer_id = await self.database.run(work)
        stored = None if answer is None or answer_id is None else _stored(answer_id, answer)
        self.windows.stored(conversation_id, stored, window_start_id)

    @retried
    async def messages_from(self, conversation_id: int, start_id: int) -> list[StoredMessage]:
        """The window's messages, oldest first."""
        query = _MESSAGE_COLUMNS.where(
            MessageRow.conversation_id == conversation_id, MessageRow.id >= start_id
        ).order_by(MessageRow.id)
        return await self.database.run(
            lambda c: [StoredMessage(*row) for row in c.execute(query).all()]
        )

    @retried
    async def recount(self, counts: Sequence[tuple[int, int]], encoding: str) -> None:
        """Store new token counts (after the chat switched to a model with another encoding)."""
        if not counts:
            return
        values = [{"message": message_id, "tokens": tokens} for message_id, tokens in counts]
        statement = (
            update(MessageRow)
            .where(MessageRow.id == bindparam("message"))
            .values(tokens=bindparam("tokens"), encoding=encoding)
        )
        await self.database.run(lambda c: c.execute(statement, values))
        self.windows.forget()

    @retried
    async def last_message_id(self, conversation_id: int) -> int:
        query = select(func.max(MessageRow.id)).where(MessageRow.conversation_id == conversation_id)
        return await self.database.run(lambda c: c.execute(query).scalar() or 0)

    @retried
    async def delete_history(self, conversation_id: int) -> int:
        def work(connection: Connection) -> int:
            result = connection.execute(
                delete(MessageRow).where(MessageRow.conversation_id == conversation_id)
            )
            connection.execute(_MOVE_WINDOW, {"conversation": conversation_id, "start": 0})
            return result.rowcount

        self.windows.forget(conversation_id)
        return await self.database.run(work)

    @retried
    async def forget_user(self, platform: str, user_id: str) -> tuple[int, int]:
        """Delete a user's messages and usage rows on one platform; (messages, usage rows)."""
        on_platform = select(ConversationRow.id).where(ConversationRow.platform == platform)

        def work(connection: Connection) -> tuple[int, int]:
            messages = connection.execute(
                delete(MessageRow).where(
                    MessageRow.author_id == user_id,
                    MessageRow.role == "user",
                    MessageRow.conversation_id.in_(on_platform),
                )
            )
            usage = connection.execute(
                delete(UsageRow).where(
                    UsageRow.user_id == user_id, UsageRow.conversation_id.in_(on_platform)
                )
            )
            return messages.rowcount, usage.rowcount

        # Every turn would notice the deleted rows anyway; a forgotten user's text must not
        # linger in memory until then.
        self.windows.forget()
        return await self.database.run(work)

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
        rows = await self.database.run(lambda c: c.execute(query).all())
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
        row = await self.database.run(lambda c: c.execute(query).one())
        return Spending(
            day_tokens=int(row[0] or 0),
            day_usd=float(row[1] or 0.0),
            month_tokens=int(row[2] or 0),
            month_usd=float(row[3] or 0.0),
        )

    @retried
    async def delete_messages_before(self, cutoff: datetime) -> int:
        """Retention: delete every stored message older than `cutoff`; how many went."""
        statement = delete(MessageRow).where(MessageRow.created_at < cutoff)
        self.windows.forget()
        return await self.database.run(lambda c: c.execute(statement).rowcount)

    @retried
    async def custom_personas(self, platform: str, space_id: str) -> list[CustomPersona]:
        query = (
            select(*_PERSONA_COLUMNS)
            .where(CustomPersonaRow.platform == platform, CustomPersonaRow.space_id == space_id)
            .order_by(CustomPersonaRow.name)
        )
        return await self.database.run(lambda c: [CustomPersona(*row) for row in c.execute(query)])

    @retried
    async def add_custom_persona(self, persona: CustomPersona) -> bool:
        """False when a persona of that name already exists in that space."""
        values = {column.key: getattr(persona, column.key) for column in _PERSONA_COLUMNS}
        stored = await self.database.run(lambda c: c.execute(self._insert_persona, values).scalar())
        return stored is not None

    @retried
    async def delete_custom_persona(self, platform: str, space_id: str, name: str) -> bool:
        statement = delete(CustomPersonaRow).where(
            CustomPersonaRow.platform == platform,
            CustomPersonaRow.space_id == space_id,
            CustomPersonaRow.name == name,
        )
        return await self.database.run(lambda c: c.execute(statement).rowcount > 0)


_INSERT_ANSWER = insert(MessageRow).returning(MessageRow.id)
_INSERT_USAGE = insert(UsageRow)
_MOVE_WINDOW = (
    update(ConversationRow)
    .where(ConversationRow.id == bindparam("conversation"))
    .values(window_start_id=bindparam("start"))
)
_PERSONA_COLUMNS = (
    CustomPersonaRow.platform,
    CustomPersonaRow.space_id,
    CustomPersonaRow.name,
    CustomPersonaRow.description,
    CustomPersonaRow.system_prompt,
    CustomPersonaRow.model,
    CustomPersonaRow.params,
    CustomPersonaRow.created_by,
)
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
_NEWEST_FIRST = (
    _MESSAGE_COLUMNS.where(
        MessageRow.conversation_id == bindparam("conversation"),
        MessageRow.id >= bindparam("start"),
    )
    .order_by(MessageRow.id.desc())
    .limit(bindparam("limit"))
)
_FIND_CONVERSATION = select(*ConversationRow.__table__.columns).where(
    ConversationRow.platform == bindparam("platform"),
    ConversationRow.chat_id == bindparam("chat"),
    ConversationRow.thread_id == bindparam("thread"),
)


def _message_values(conversation_id: int, message: NewMessage) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "role": message.role,
        "content": message.content,
        "tokens": message.tokens,
        "encoding": message.encoding,
        "author_id": message.author_id,
        "author_name": message.author_name,
        "platform_message_id": message.platform_message_id,
    }


# A window's WindowShape: the index answers it without reading the rows.
_WINDOW_SHAPE = select(func.count(), func.max(MessageRow.id), func.sum(MessageRow.id)).where(
    MessageRow.conversation_id == bindparam("conversation"),
    MessageRow.id >= bindparam("start"),
)


def _stored(message_id: int, message: NewMessage) -> StoredMessage:
    return StoredMessage(
        message_id,
        message.role,
        message.content,
        message.tokens,
        message.encoding,
        message.author_name,
    )


def _newest_first(
    connection: Connection, conversation_id: int, start_id: int, limit: int
) -> list[StoredMessage]:
    rows = connection.execute(
        _NEWEST_FIRST, {"conversation": conversation_id, "start": start_id, "limit": limit}
    ).all()  # one fetch, not one per row: a window is hundreds of rows
    return [StoredMessage(*row) for row in rows]


def _find_conversation(connection: Connection, key: ConversationKey) -> Row[Any] | None:
    return connection.execute(
        _FIND_CONVERSATION,
        {"platform": key.platform, "chat": key.chat_id, "thread": key.thread_id},
    ).first()


def _state(row: Row[Any], key: ConversationKey) -> ConversationState:
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
