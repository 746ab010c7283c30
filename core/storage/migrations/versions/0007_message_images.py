"""Photos sent with messages, stored scaled down with their token counts (vision).

Revision ID: 0007_message_images
Revises: 0006_usage_kind
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_message_images"
down_revision = "0006_usage_kind"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_images",
        sa.Column(
            "message_id",
            Id,
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id",
            Id,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(8), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("counted_for", sa.String(32), nullable=False),
    )
    op.create_index("ix_message_images_window", "message_images", ["conversation_id", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_message_images_window", table_name="message_images")
    op.drop_table("message_images")
