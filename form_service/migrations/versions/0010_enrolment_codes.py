"""Give each account awaiting an authenticator a one-time enrolment code (its hash only).

Before, whoever first signed in with an unenrolled account's password chose its second
factor. Now enrolment also needs a code that the CLI prints for the administrator to hand
over; the table keeps its SHA-256 only, and a used code is cleared.

Revision ID: 0010_enrolment_codes
Revises: 0009_deadlines
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_enrolment_codes"
down_revision: str | None = "0009_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the code's hash to staff accounts."""
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("enrolment_code_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the code's hash again."""
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("enrolment_code_hash")
