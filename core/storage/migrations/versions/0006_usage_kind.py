"""Usage rows say what was paid for: a chat answer's tokens, or seconds of transcribed audio.

Revision ID: 0006_usage_kind
Revises: 0005_model_token_ratios
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_usage_kind"
down_revision = "0005_model_token_ratios"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every row so far is a chat answer's; the server defaults fill them in.
    with op.batch_alter_table("usage") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="chat"))
        batch.add_column(sa.Column("quantity", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    # The rows stay (budgets still sum their cost), read as chat spending.
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("quantity")
        batch.drop_column("kind")
