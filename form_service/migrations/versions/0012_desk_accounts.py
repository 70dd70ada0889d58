"""Accounts in the desk: invitation expiry, last sign-in day, session language, recovery codes.

An enrolment code (CLI-issued or an invitation link) now dies 72 hours after it was issued;
codes outstanding at the upgrade get 72 hours from it. Staff rows may be dated: they are
not tips. A session keeps the desk language it was started in (shown on the staff member's
own page instead of an address), and each account may hold one-time recovery codes, stored
as SHA-256 only.

Revision ID: 0012_desk_accounts
Revises: 0011_random_tip_ids
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_desk_accounts"
down_revision: str | None = "0011_random_tip_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns and the recovery code table; give outstanding codes 72 hours."""
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("enrolment_code_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("last_sign_in_on", sa.Date(), nullable=True))
    with op.batch_alter_table("staff_sessions") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))
    op.create_table(
        "staff_recovery_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.staff_id"],
            name=op.f("fk_staff_recovery_codes_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_staff_recovery_codes")),
    )
    op.create_index(op.f("ix_staff_recovery_codes_staff_id"), "staff_recovery_codes", ["staff_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE staff SET enrolment_code_expires_at = now() + interval '72 hours' "
            "WHERE enrolment_code_hash IS NOT NULL"
        )
    else:
        op.execute(
            "UPDATE staff SET enrolment_code_expires_at = datetime('now', '+72 hours') "
            "WHERE enrolment_code_hash IS NOT NULL"
        )


def downgrade() -> None:
    """Drop the recovery codes and the new columns again."""
    op.drop_index(op.f("ix_staff_recovery_codes_staff_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("last_sign_in_on")
        batch.drop_column("enrolment_code_expires_at")
