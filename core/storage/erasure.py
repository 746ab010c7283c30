"""Deleting what the bot stored about people: a user's own data (/forget) and what is past the
retention period.

/forget deletes the user's words, wherever they are: their messages, the bot's answers to them
(which quote them), the personas they created and, in a private chat, the whole conversation.
It keeps what they spent, so that forgetting never resets a budget: the usage rows lose the user's
id (and a private chat's conversation) for salted hashes of them (see `core.storage.usage`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, exists, select, update

from core.storage.custom_personas import GLOBAL_PLATFORM
from core.storage.engine import Database
from core.storage.records import ForgetReport, RetentionReport, StoredMessage
from core.storage.retry import Store, retried
from core.storage.schema import ConversationRow, CustomPersonaRow, MessageRow, UsageRow
from core.storage.usage import identity_hash
from core.storage.window_cache import WindowRows


class ErasureStore(Store):
    def __init__(
        self,
        database: Database,
        windows: WindowRows[StoredMessage],
        identifier_salt: bytes,
        retry_s: float = 30.0,
    ) -> None:
        super().__init__(database, retry_s)
        self._windows = windows  # the message store's cache: deleted text must leave it too
        self._salt = identifier_salt

    @retried
    async def forget_user(
        self, platform: str, user_id: str, private_chat_id: str | None = None
    ) -> ForgetReport:
        """Delete a user's data on one platform, and with `private_chat_id` (asked in a private
        chat) that chat's conversations whole; one transaction."""
        user_hash = identity_hash(self._salt, "user", platform, user_id)
        chat_hash = identity_hash(self._salt, "chat", platform, private_chat_id or "")
        on_platform = select(ConversationRow.id).where(ConversationRow.platform == platform)
        asked = (
            MessageRow.author_id == user_id,
            MessageRow.role == "user",
            MessageRow.conversation_id.in_(on_platform),
        )
        private = select(ConversationRow.id).where(
            ConversationRow.platform == platform, ConversationRow.chat_id == private_chat_id
        )

        def work(connection: Connection) -> tuple[ForgetReport, list[int]]:
            touched = list(
                connection.execute(select(MessageRow.conversation_id).where(*asked).distinct())
                .scalars()
                .all()
            )
            answers = connection.execute(
                delete(MessageRow).where(
                    MessageRow.role == "assistant",
                    MessageRow.reply_to_id.in_(select(MessageRow.id).where(*asked)),
                )
            ).rowcount
            messages = connection.execute(delete(MessageRow).where(*asked)).rowcount
            usage = connection.execute(
                update(UsageRow)
                .where(UsageRow.user_id == user_id, UsageRow.conversation_id.in_(on_platform))
                .values(user_id=None, user_hash=user_hash)
            ).rowcount
            personas = connection.execute(
                delete(CustomPersonaRow).where(
                    CustomPersonaRow.platform == platform, CustomPersonaRow.created_by == user_id
                )
            ).rowcount
            conversations = 0
            if private_chat_id is not None:
                touched += connection.execute(private).scalars().all()
                # The conversation row names the chat, so its spending keeps only the chat's hash.
                connection.execute(
                    update(UsageRow)
                    .where(UsageRow.conversation_id.in_(private))
                    .values(conversation_id=None, chat_hash=chat_hash)
                )
                in_private = MessageRow.conversation_id.in_(private)
                messages += connection.execute(
                    delete(MessageRow).where(in_private, MessageRow.role == "user")
                ).rowcount
                answers += connection.execute(delete(MessageRow).where(in_private)).rowcount
                conversations = connection.execute(
                    delete(ConversationRow).where(ConversationRow.id.in_(private))
                ).rowcount
            report = ForgetReport(messages, answers, personas, conversations, usage)
            return report, touched

        report, touched = await self.database.run_long(work)
        # Each turn checks its cached window against the database anyway; a forgotten user's
        # text must still not linger in memory until then.
        for conversation_id in touched:
            self._windows.forget(conversation_id)
        return report

    @retried
    async def prune(
        self, messages_before: datetime, usage_before: datetime, idle_before: datetime
    ) -> RetentionReport:
        """Retention, one transaction: messages and usage rows older than their cutoffs, the
        personas of spaces without a turn since `idle_before`, then the conversation rows left
        with nothing (no message, no usage row) and unchanged since `idle_before`."""
        no_messages = ~exists().where(MessageRow.conversation_id == ConversationRow.id)
        no_usage = ~exists().where(UsageRow.conversation_id == ConversationRow.id)

        def work(connection: Connection) -> RetentionReport:
            messages = connection.execute(
                delete(MessageRow).where(MessageRow.created_at < messages_before)
            ).rowcount
            usage = connection.execute(
                delete(UsageRow).where(UsageRow.created_at < usage_before)
            ).rowcount
            personas = connection.execute(
                delete(CustomPersonaRow).where(
                    CustomPersonaRow.space_seen_at < idle_before,
                    CustomPersonaRow.platform != GLOBAL_PLATFORM,
                )
            ).rowcount
            conversations = connection.execute(
                delete(ConversationRow).where(
                    ConversationRow.updated_at < idle_before, no_messages, no_usage
                )
            ).rowcount
            return RetentionReport(messages, usage, personas, conversations)

        report = await self.database.run_long(work)
        self._windows.forget()
        return report
