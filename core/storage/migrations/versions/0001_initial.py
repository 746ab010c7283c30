"""Initial schema: conversations, messages, usage, custom personas.

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("persona", sa.String(64)),
        sa.Column("model", sa.String(128)),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("listen", sa.Boolean, nullable=False),
        sa.Column("answer_all", sa.Boolean, nullable=False),
        sa.Column("trigger", sa.String(64)),
        sa.Column("everyone_can_manage", sa.Boolean, nullable=False),
        sa.Column("window_start_id", Id, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("platform", "chat_id", "thread_id", name="uq_conversation"),
    )
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            Id,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("author_id", sa.String(64)),
        sa.Column("author_name", sa.String(128)),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("tokens", sa.Integer, nullable=False),
        sa.Column("encoding", sa.String(32), nullable=False),
        sa.Column("platform_message_id", sa.String(64)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("conversation_id", "platform_message_id", name="uq_message_delivery"),
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_author", "messages", ["author_id"])
    op.create_table(
        "usage",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            Id,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(64)),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("cached_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_usage_conversation", "usage", ["conversation_id"])
    op.create_index("ix_usage_user", "usage", ["user_id"])
    op.create_table(
        "custom_personas",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("space_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("system_prompt", sa.Text, nullable=False),
        sa.Column("model", sa.String(128)),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("platform", "space_id", "name", name="uq_custom_persona"),
    )


def downgrade() -> None:
    op.drop_table("custom_personas")
    op.drop_table("usage")
    op.drop_table("messages")
    op.drop_table("conversations")
