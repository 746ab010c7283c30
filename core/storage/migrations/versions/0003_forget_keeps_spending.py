"""/forget keeps spending (usage by salted hashes) and takes the answers and personas with the
user's messages; retention finds old usage rows and the personas of abandoned spaces.

Revision ID: 0003_forget_keeps_spending
Revises: 0002_limits_retention
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_forget_keeps_spending"
down_revision = "0002_limits_retention"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def _index_where_set(name: str, table: str, columns: list[str]) -> None:
    """An index of the rows whose first column is set (few of them)."""
    where = sa.text(f"{columns[0]} IS NOT NULL")
    op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to_id", Id, nullable=True))
    # Answers stored before this revision: the newest user message before each, as the turn
    # recorded it from now on.
    op.execute(
        "UPDATE messages SET reply_to_id = ("
        " SELECT max(asked.id) FROM messages AS asked"
        " WHERE asked.conversation_id = messages.conversation_id"
        " AND asked.role = 'user' AND asked.id < messages.id)"
        " WHERE role = 'assistant'"
    )
    _index_where_set("ix_messages_reply_to", "messages", ["reply_to_id"])

    with op.batch_alter_table("usage") as batch:
        batch.add_column(sa.Column("user_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("chat_hash", sa.String(64), nullable=True))
        batch.alter_column("conversation_id", existing_type=Id, nullable=True)
    _index_where_set("ix_usage_user_hash_created", "usage", ["user_hash", "created_at"])
    _index_where_set("ix_usage_chat_hash_created", "usage", ["chat_hash", "created_at"])
    op.create_index("ix_usage_created_at", "usage", ["created_at"])

    with op.batch_alter_table("custom_personas") as batch:
        batch.add_column(sa.Column("space_seen_at", Timestamp, nullable=True))
    # Unknown until the space's next turn: count from now, so no persona goes at the first prune.
    personas = sa.table("custom_personas", sa.column("space_seen_at", Timestamp))
    op.execute(personas.update().values(space_seen_at=datetime.now(UTC)))
    with op.batch_alter_table("custom_personas") as batch:
        batch.alter_column("space_seen_at", existing_type=Timestamp, nullable=False)
    op.create_index("ix_custom_personas_created_by", "custom_personas", ["created_by"])


def downgrade() -> None:
    op.drop_index("ix_custom_personas_created_by", table_name="custom_personas")
    with op.batch_alter_table("custom_personas") as batch:
        batch.drop_column("space_seen_at")
    op.drop_index("ix_usage_created_at", table_name="usage")
    op.drop_index("ix_usage_chat_hash_created", table_name="usage")
    op.drop_index("ix_usage_user_hash_created", table_name="usage")
    # Rows kept only by their hashes belong to no conversation any more: they cannot go back.
    op.execute("DELETE FROM usage WHERE conversation_id IS NULL")
    with op.batch_alter_table("usage") as batch:
        batch.alter_column("conversation_id", existing_type=Id, nullable=False)
        batch.drop_column("chat_hash")
        batch.drop_column("user_hash")
    op.drop_index("ix_messages_reply_to", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("reply_to_id")
