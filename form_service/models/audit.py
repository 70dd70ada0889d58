"""The desk's audit log table: append-only entries linked by a hash chain."""

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


# Database triggers refuse UPDATE and DELETE on the log, so the application (and anyone
# using its database role) cannot rewrite history; the chain catches someone who can.
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


@event.listens_for(AuditEntry.__table__, "after_create")
def _make_append_only(target: Table, connection: Connection, **_: Any) -> None:
    """Install the append-only triggers when the table is created without Alembic (tests)."""
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
