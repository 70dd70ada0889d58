"""Create the review desk's tables: staff, sessions, audit log and workflow state.

Also adds the composite indexes the inbox needs on tips, and triggers that make the
audit log append-only.

Revision ID: 0002_review
Revises: 0001_intake
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The triggers as this revision created them (a migration never imports models that may
# change later): they refuse UPDATE and DELETE on the audit log.
APPEND_ONLY_DDL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
    ],
}

revision: str = "0002_review"
down_revision: str | None = "0001_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the desk's tables, the inbox indexes and the audit log's triggers."""
    op.create_table(
        "audit_entries",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_entries_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_entries_prev_hash")),
    )
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"])
    op.create_index(op.f("ix_audit_entries_actor"), "audit_entries", ["actor"])
    op.create_index(op.f("ix_audit_entries_recorded_at"), "audit_entries", ["recorded_at"])
    op.create_index(op.f("ix_audit_entries_tip_id"), "audit_entries", ["tip_id"])
    op.create_table(
        "staff",
        sa.Column("staff_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("sealed_totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.staff_id"],
            name=op.f("fk_staff_sessions_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"])
    op.create_table(
        "tip_changes",
        sa.Column("change_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.staff_id"],
            name=op.f("fk_tip_changes_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tips.tip_id"], name=op.f("fk_tip_changes_tip_id_tips"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_tip_changes")),
    )
    op.create_index(op.f("ix_tip_changes_tip_id"), "tip_changes", ["tip_id"])
    op.create_table(
        "tip_labels",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tips.tip_id"], name=op.f("fk_tip_labels_tip_id_tips"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tip_id", "label", name=op.f("pk_tip_labels")),
    )
    op.create_index("ix_tip_labels_label", "tip_labels", ["label"])
    op.create_table(
        "tip_notes",
        sa.Column("note_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.staff_id"],
            name=op.f("fk_tip_notes_author_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tips.tip_id"], name=op.f("fk_tip_notes_tip_id_tips"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_tip_notes")),
    )
    op.create_index(op.f("ix_tip_notes_tip_id"), "tip_notes", ["tip_id"])
    op.create_table(
        "tip_triage",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff.staff_id"],
            name=op.f("fk_tip_triage_assignee_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tips.tip_id"], name=op.f("fk_tip_triage_tip_id_tips"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tip_id", name=op.f("pk_tip_triage")),
    )
    op.create_index(op.f("ix_tip_triage_assignee_id"), "tip_triage", ["assignee_id"])
    op.create_index(op.f("ix_tip_triage_closed_on"), "tip_triage", ["closed_on"])
    op.create_index(
        "ix_review_tips_language_received", "tips", ["language", "received_on", "tip_id"]
    )
    op.create_index("ix_review_tips_received", "tips", ["received_on", "tip_id"])
    op.create_index("ix_review_tips_status_received", "tips", ["status", "received_on", "tip_id"])
    op.create_index("ix_review_tips_topic_received", "tips", ["topic", "received_on", "tip_id"])

    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    """Drop the desk's tables and indexes (the audit log too)."""
    op.drop_index("ix_review_tips_topic_received", table_name="tips")
    op.drop_index("ix_review_tips_status_received", table_name="tips")
    op.drop_index("ix_review_tips_received", table_name="tips")
    op.drop_index("ix_review_tips_language_received", table_name="tips")
    op.drop_index(op.f("ix_tip_triage_closed_on"), table_name="tip_triage")
    op.drop_index(op.f("ix_tip_triage_assignee_id"), table_name="tip_triage")
    op.drop_table("tip_triage")
    op.drop_index(op.f("ix_tip_notes_tip_id"), table_name="tip_notes")
    op.drop_table("tip_notes")
    op.drop_index("ix_tip_labels_label", table_name="tip_labels")
    op.drop_table("tip_labels")
    op.drop_index(op.f("ix_tip_changes_tip_id"), table_name="tip_changes")
    op.drop_table("tip_changes")
    op.drop_index(op.f("ix_staff_sessions_staff_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff")
    op.drop_index(op.f("ix_audit_entries_tip_id"), table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_recorded_at"), table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_actor"), table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_action"), table_name="audit_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    op.drop_table("audit_entries")
