"""Several processes on one database (issue 15): the inbox of received updates, the shared rate
counters and the processes' shared state.

Revision ID: 0010_scale_out
Revises: 0007_message_images
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_scale_out"
down_revision = "0009_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("update_id", sa.BigInteger(), primary_key=True),
        sa.Column("conversation", sa.String(160), nullable=False),
        sa.Column("lock_key", sa.BigInteger(), nullable=False),
        sa.Column("album", sa.String(64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_inbound_updates_pending",
        "inbound_updates",
        ["conversation", "update_id"],
        sqlite_where=sa.text("done_at IS NULL"),
        postgresql_where=sa.text("done_at IS NULL"),
    )
    op.create_index("ix_inbound_updates_received_at", "inbound_updates", ["received_at"])
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("full_at", sa.Float(), nullable=False),
        sa.Column("refused_at", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_table(
        "bot_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_state")
    op.drop_table("rate_counters")
    op.drop_index("ix_inbound_updates_received_at", table_name="inbound_updates")
    op.drop_index("ix_inbound_updates_pending", table_name="inbound_updates")
    op.drop_table("inbound_updates")
