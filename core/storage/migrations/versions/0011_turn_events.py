"""Refusals and failures counted per UTC day (issue 16): the web console's Overview shows them.

Revision ID: 0011_turn_events
Revises: 0010_scale_out
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_turn_events"
down_revision = "0010_scale_out"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_events",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("turn_events")
