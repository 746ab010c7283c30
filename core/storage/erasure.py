"""Deleting what the bot stored about people: a user's own data (/forget) and old messages
(retention)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from core.storage.engine import Database
from core.storage.records import StoredMessage
from core.storage.retry import Store, retried
from core.storage.schema import ConversationRow, MessageRow, UsageRow
from core.storage.window_cache import WindowRows


class ErasureStore(Store):
    def __init__(
        self, database: Database, windows: WindowRows[StoredMessage], retry_s: float = 30.0
    ) -> None:
        super().__init__(database, retry_s)
        self._windows = windows  # the message store's cache: deleted text must leave it too

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
        self._windows.forget()
        return await self.database.run(work)

    @retried
    async def delete_messages_before(self, cutoff: datetime) -> int:
        """Retention: delete every stored message older than `cutoff`; how many went."""
        statement = delete(MessageRow).where(MessageRow.created_at < cutoff)
        self._windows.forget()
        return await self.database.run(lambda c: c.execute(statement).rowcount)
