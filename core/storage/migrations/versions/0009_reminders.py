"""Reminders the model sets for a chat, delivered once by whichever process claims them.

Revision ID: 0009_reminders
Revises: 0007_message_images
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_reminders"
down_revision = "0008_tool_messages"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_reminders_state_due", "reminders", ["state", "due_at"])
    op.create_index("ix_reminders_state_claimed", "reminders", ["state", "claimed_at"])
    op.create_index(
        "ix_reminders_conversation", "reminders", ["platform", "chat_id", "thread_id", "state"]
    )
    op.create_index("ix_reminders_user", "reminders", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_reminders_user", table_name="reminders")
    op.drop_index("ix_reminders_conversation", table_name="reminders")
    op.drop_index("ix_reminders_state_claimed", table_name="reminders")
    op.drop_index("ix_reminders_state_due", table_name="reminders")
    op.drop_table("reminders")
