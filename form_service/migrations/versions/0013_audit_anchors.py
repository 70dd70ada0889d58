"""Audit retention: anchors where the chain resumes after old entries are pruned.

Entries stay append-only, except those at or before the newest anchor, which
`form-service audit prune` (the owner's rights on PostgreSQL) may delete; anchors themselves
are append-only. Entry hashes become HMACs under the audit key (form_service/review/audit.py);
the columns do not change.

Revision ID: 0013_audit_anchors
Revises: 0012_desk_accounts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen here (not imported from the models, which may change later).
APPEND_ONLY_DDL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$ "
        "BEGIN IF TG_OP = 'DELETE' AND OLD.entry_id <= "
        "(SELECT COALESCE(MAX(through_entry_id), 0) FROM audit_anchors) THEN RETURN OLD; "
        "END IF; RAISE EXCEPTION 'audit_entries is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION audit_anchors_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_anchors is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors "
        "FOR EACH ROW EXECUTE FUNCTION audit_anchors_append_only()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_entries_no_delete",
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
        "WHEN OLD.entry_id > (SELECT COALESCE(MAX(through_entry_id), 0) FROM audit_anchors) "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
        "CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors "
        "BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END",
        "CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors "
        "BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END",
    ],
}

revision: str = "0013_audit_anchors"
down_revision: str | None = "0012_desk_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the anchors table and let anchored entries be deleted."""
    op.create_table(
        "audit_anchors",
        sa.Column("anchor_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("through_entry_id", sa.Integer(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("anchor_id", name=op.f("pk_audit_anchors")),
        sa.UniqueConstraint("through_entry_id", name=op.f("uq_audit_anchors_through_entry_id")),
    )
    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    """Drop the anchors and make every entry undeletable again."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
        op.execute(
            "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END; $$ LANGUAGE plpgsql"
        )
    op.drop_table("audit_anchors")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_anchors_append_only()")
