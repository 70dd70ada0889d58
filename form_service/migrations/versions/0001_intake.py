"""Create the intake's tables: tips and their attachments.

Revision ID: 0001_intake
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_intake"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOPICS = ("person", "sighting", "document", "other")
STATUSES = ("new", "triaged", "in_progress", "forwarded", "closed")


def _in(column: str, values: Sequence[str]) -> str:
    """Write a CHECK expression that limits a column to fixed values."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    """Create tips and attachments; no column holds a time of day or a client detail."""
    op.create_table(
        "tips",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("receipt_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(_in("topic", TOPICS), name=op.f("ck_tips_topic")),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_tips_status")),
        sa.PrimaryKeyConstraint("tip_id", name=op.f("pk_tips")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_tips_receipt_hash")),
    )
    op.create_index(op.f("ix_tips_status"), "tips", ["status"])
    op.create_table(
        "attachments",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["tips.tip_id"],
            name=op.f("fk_attachments_tip_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_tip_id"), "attachments", ["tip_id"])


def downgrade() -> None:
    """Drop the intake's tables (and every tip in them)."""
    op.drop_index(op.f("ix_attachments_tip_id"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_index(op.f("ix_tips_status"), table_name="tips")
    op.drop_table("tips")
