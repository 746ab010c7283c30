"""Learned token ratios of models whose tokenizer the bot does not have (issue 12 item 5).

Revision ID: 0005_model_token_ratios
Revises: 0004_reasoning_tokens
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_model_token_ratios"
down_revision = "0004_reasoning_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_token_ratios",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_token_ratios")
