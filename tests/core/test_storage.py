"""The database layer on its own: transactions, the SQLite thread and in-memory databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, insert, select, text

from core.boundary import ConversationKey
from core.storage.engine import MIGRATIONS_DIR, migrate, open_database
from core.storage.records import NewMessage
from core.storage.schema import Base, MessageRow
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


def _migrate_to(revision: str) -> Callable[[Connection], None]:
    def upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return upgrade


async def test_migrations_build_the_models_schema_and_keep_older_data(database_url: str) -> None:
    """0003 on a database with data: answers learn the message they answered (the newest user
    message before them), usage and personas stay; 0004 marks the usage rows as chat answers;
    the result is exactly schema.py's tables."""
    database = open_database(database_url)
    try:
        await database.run(_migrate_to("0002_limits_retention"))

        def old_rows(connection: Connection) -> None:
            conversation = connection.execute(
                text(
                    "INSERT INTO conversations (platform, chat_id, thread_id, params, listen,"
                    " answer_all, everyone_can_manage, window_start_id, created_at, updated_at)"
                    " VALUES ('telegram', '1', '', '{}', false, false, false, 0, :t, :t)"
                    " RETURNING id"
                ),
                {"t": datetime.now(UTC)},
            ).scalar_one()
            for role, content in [
                ("user", "q1"),
                ("assistant", "a1"),
                ("user", "q2"),
                ("user", "q3"),
                ("assistant", "a3"),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO messages (conversation_id, role, author_id, content, tokens,"
                        " encoding, created_at) VALUES (:c, :r, '11', :x, 1, 'o200k_base', :t)"
                    ),
                    {"c": conversation, "r": role, "x": content, "t": datetime.now(UTC)},
                )
            connection.execute(
                text(
                    "INSERT INTO usage (conversation_id, user_id, model, prompt_tokens,"
                    " cached_tokens, completion_tokens, cost_usd, created_at)"
                    " VALUES (:c, '11', 'gpt-4o-mini', 10, 0, 5, 0.5, :t)"
                ),
                {"c": conversation, "t": datetime.now(UTC)},
            )

        await database.run(old_rows)
        await migrate(database)

        def read(connection: Connection) -> tuple[Any, ...]:
            answers = connection.execute(
                text(
                    "SELECT a.content, q.content FROM messages a JOIN messages q"
                    " ON q.id = a.reply_to_id ORDER BY a.id"
                )
            ).all()
            usage = connection.execute(
                text("SELECT user_id, cost_usd, kind, quantity FROM usage")
            ).all()
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            return [tuple(row) for row in answers], [tuple(row) for row in usage], drift

        answers, usage, drift = await database.run(read)
        assert answers == [("a1", "q1"), ("a3", "q3")]
        assert usage == [("11", 0.5, "chat", 0.0)]  # 0004: every older row was a chat answer
        assert drift == []
    finally:
        await database.dispose()
