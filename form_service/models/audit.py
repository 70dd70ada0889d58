"""The desk's audit log: append-only entries linked by a keyed hash chain, and its anchors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from form_service.models.base import Base


class AuditEntry(Base):
    """One recorded action; `entry_hash` covers its fields and the previous entry's hash."""

    __tablename__ = "audit_entries"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(320), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    tip_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    # Unique: two writers that read the same head cannot both link to it (the chain never forks).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditAnchor(Base):
    """Where the chain resumes after old entries were pruned: the last pruned entry's hash.

    `entries` counts every entry pruned so far, so the chain's length stays known; the keyed
    `anchor_hash` covers the three, so nobody without the audit key can move an anchor.
    """

    __tablename__ = "audit_anchors"

    anchor_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    through_entry_id: Mapped[int] = mapped_column(Integer, unique=True)
    through_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    anchor_hash: Mapped[str] = mapped_column(String(64))


# Database triggers refuse UPDATE and DELETE on the log, so the application (and anyone
# using its database role) cannot rewrite history; the keyed chain catches someone who can.
# The one exception: entries at or before the newest anchor may go (audit retention), which
# needs the anchor first, itself append-only. On PostgreSQL only the owner may delete at all.
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
# The entries' own triggers, created with their table (the anchors' DDL above refines them).
ENTRIES_DDL = {
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


@event.listens_for(AuditEntry.__table__, "after_create")
def _make_append_only(target: Table, connection: Connection, **_: Any) -> None:
    """Install the append-only triggers when the table is created without Alembic (tests)."""
    for statement in ENTRIES_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


@event.listens_for(AuditAnchor.__table__, "after_create")
def _anchor_retention(target: Table, connection: Connection, **_: Any) -> None:
    """Let anchored entries go, and make the anchors append-only (tables made without Alembic)."""
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
