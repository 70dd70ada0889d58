"""Limit the staff role, the session stage and the kind of a tip change to their values.

They were plain strings matched by hand in the code; now the models store them as enums,
and the database refuses any other value, as it already did for a tip's topic and status.

Revision ID: 0003_enum_checks
Revises: 0002_review
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_enum_checks"
down_revision: str | None = "0002_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, constraint name, column, allowed values) as of this revision.
CHECKS = (
    ("staff", "role", "role", ("admin", "reviewer")),
    ("staff_sessions", "stage", "stage", ("password", "signed_in")),
    ("tip_changes", "kind", "kind", ("status", "assignee", "label+", "label-", "note")),
)


def _in(column: str, values: Sequence[str]) -> str:
    """Write a CHECK expression that limits a column to fixed values."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    """Add one CHECK constraint per enum column (SQLite copies the table to do it)."""
    for table, name, column, values in CHECKS:
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(op.f(f"ck_{table}_{name}"), _in(column, values))


def downgrade() -> None:
    """Drop the CHECK constraints again."""
    for table, name, _column, _values in CHECKS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
