"""Tool calls and their results in history: an assistant message's `tool_calls`, a `tool`
message's `tool_call_id` (issue 14).

Revision ID: 0008_tool_messages
Revises: 0007_message_images
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_tool_messages"
down_revision = "0007_message_images"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("tool_calls", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tool_call_id", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("tool_call_id")
        batch.drop_column("tool_calls")
