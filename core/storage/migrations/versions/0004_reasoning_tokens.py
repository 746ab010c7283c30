"""Usage rows say how many of their completion tokens the model spent reasoning.

Revision ID: 0004_reasoning_tokens
Revises: 0003_forget_keeps_spending
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reasoning_tokens"
down_revision = "0003_forget_keeps_spending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage") as batch:
        batch.add_column(
            sa.Column("reasoning_tokens", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("reasoning_tokens")
