"""Tool calls waiting for the user's Yes or No, kept where every process sees them: the press
of a button may reach another process than the one whose turn waits.

Revision ID: 0012_tool_confirmations
Revises: 0011_turn_events
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_tool_confirmations"
down_revision = "0011_turn_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_confirmations",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("answer", sa.Boolean(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_tool_confirmations_expires_at", "tool_confirmations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_tool_confirmations_expires_at", table_name="tool_confirmations")
    op.drop_table("tool_confirmations")
