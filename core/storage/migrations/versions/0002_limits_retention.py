"""Indexes for budgets (usage by user or chat since a date) and retention (messages by age).

Revision ID: 0002_limits_retention
Revises: 0001_initial
"""

from alembic import op

revision = "0002_limits_retention"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    # The composite indexes serve every lookup the single-column ones did.
    op.drop_index("ix_usage_conversation", table_name="usage")
    op.drop_index("ix_usage_user", table_name="usage")
    op.create_index("ix_usage_conversation_created", "usage", ["conversation_id", "created_at"])
    op.create_index("ix_usage_user_created", "usage", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_usage_user_created", table_name="usage")
    op.drop_index("ix_usage_conversation_created", table_name="usage")
    op.create_index("ix_usage_user", "usage", ["user_id"])
    op.create_index("ix_usage_conversation", "usage", ["conversation_id"])
    op.drop_index("ix_messages_created_at", table_name="messages")
