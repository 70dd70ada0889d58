"""Give tips random ids instead of a sequence that tells the order they came in.

New ids are drawn by the application (models.tips.new_tip_id). On PostgreSQL the column's
default (nextval of its sequence) and the sequence go; on SQLite the column is the rowid,
which takes whatever id is given, so nothing changes. Existing ids stay as they are.

Revision ID: 0011_random_tip_ids
Revises: 0010_enrolment_codes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_random_tip_ids"
down_revision: str | None = "0010_enrolment_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop the tip id's sequence on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tips ALTER COLUMN tip_id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS tips_tip_id_seq")


def downgrade() -> None:
    """Give the tip id a sequence again, starting after the highest id."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE tips_tip_id_seq OWNED BY tips.tip_id")
        op.execute(
            "SELECT setval('tips_tip_id_seq', "
            "COALESCE((SELECT max(tip_id) FROM tips), 0) + 1, false)"
        )
        op.execute("ALTER TABLE tips ALTER COLUMN tip_id SET DEFAULT nextval('tips_tip_id_seq')")
