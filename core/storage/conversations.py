"""Each conversation's own row: its settings (persona, model, parameters, group behaviour) and
where its window starts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.boundary import ConversationKey
from core.model.params import ChatParams
from core.storage.engine import Database
from core.storage.records import ConversationState
from core.storage.retry import Store, retried
from core.storage.schema import ConversationRow


class ConversationStore(Store):
    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        self._insert_conversation = dialect.insert(ConversationRow).on_conflict_do_nothing()

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


_FIND_CONVERSATION = select(*ConversationRow.__table__.columns).where(
    ConversationRow.platform == bindparam("platform"),
    ConversationRow.chat_id == bindparam("chat"),
    ConversationRow.thread_id == bindparam("thread"),
)
# A cut of the window, stored with the turn's answer (messages.py).
MOVE_WINDOW = (
    update(ConversationRow)
    .where(ConversationRow.id == bindparam("conversation"))
    .values(window_start_id=bindparam("start"))
)


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
