"""The database layer on its own: transactions, the SQLite thread and in-memory databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, func, insert, select

from core.boundary import ConversationKey
from core.storage.engine import migrate, open_database
from core.storage.records import NewMessage
from core.storage.schema import MessageRow
from core.storage.stores import Storage

KEY = ConversationKey("console", "local")


def note(text: str) -> NewMessage:
    return NewMessage(role="user", content=text, tokens=5, encoding="o200k_base")


@pytest.mark.parametrize("where", ["file", "memory"])
async def test_storage_works_on_a_file_and_in_memory(tmp_path: Path, where: str) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}" if where == "file" else "sqlite:///:memory:"
    database = open_database(url)
    try:
        await migrate(database)
        storage = Storage.open(database)
        conversation = await storage.conversations.conversation(KEY)
        again = await storage.conversations.conversation(KEY)
        assert again.id == conversation.id  # found, not re-made
        messages = storage.messages
        first, _ = await messages.add_message_and_read(conversation.id, note("one"), 0, 10)
        second, rows = await messages.add_message_and_read(conversation.id, note("two"), 0, 10)
        assert [row.content for row in rows] == ["two", "one"]
        assert [row.id for row in rows] == [second, first]
    finally:
        await database.dispose()


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        await migrate(database)
        conversation = await Storage.open(database).conversations.conversation(KEY)

        def insert_then_fail(connection: Connection) -> None:
            connection.execute(
                insert(MessageRow).values(
                    conversation_id=conversation.id,
                    role="user",
                    content="half",
                    tokens=1,
                    encoding="o200k_base",
                )
            )
            raise RuntimeError("a bug between two statements")

        with pytest.raises(RuntimeError):
            await database.run(insert_then_fail)
        count = await database.run(
            lambda c: c.execute(select(func.count()).select_from(MessageRow)).scalar()
        )
        assert count == 0
    finally:
        await database.dispose()
