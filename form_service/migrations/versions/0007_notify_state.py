"""Remember the day `form-service notify` last sent, so it sends at most once a period.

Revision ID: 0007_notify_state
Revises: 0003_enum_checks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_notify_state"
down_revision: str | None = "0003_enum_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the one-row-per-channel state table (the day only, never a time)."""
    op.create_table(
        "notify_state",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("last_sent_on", sa.Date(), nullable=True),
        sa.Column("seen_that_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_notify_state")),
    )


def downgrade() -> None:
    """Drop the state table."""
    op.drop_table("notify_state")
