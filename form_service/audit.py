"""The desk's audit log: append-only entries linked by a SHA-256 hash chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, String, Table, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from form_service.db import Base

GENESIS = "0" * 64
# Any constant works; it names the PostgreSQL advisory lock that serialises appends.
_CHAIN_LOCK = 0x5EC0_A0D1


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


def _utc_naive(moment: datetime) -> datetime:
    """Return a moment as naive UTC, the same on SQLite (no zone) and PostgreSQL."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def entry_digest(
    prev_hash: str, recorded_at: datetime, actor: str, action: str, tip_id: int | None, detail: str
) -> str:
    """Return the SHA-256 link of an entry: its fields and the previous entry's hash."""
    fields = [
        prev_hash,
        _utc_naive(recorded_at).isoformat(timespec="seconds"),
        actor,
        action,
        tip_id,
        detail,
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _head_hash(session: Session) -> str:
    """Return the hash of the newest entry (or the genesis value), holding the append lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.scalar(
        select(AuditEntry.entry_hash).order_by(AuditEntry.entry_id.desc()).limit(1)
    )
    return last or GENESIS


def record(
    session: Session, actor: str, action: str, tip_id: int | None = None, **detail: Any
) -> AuditEntry:
    """Append an entry in the caller's transaction; detail must never hold tip content."""
    recorded_at = datetime.now(UTC).replace(microsecond=0)
    detail_text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    prev_hash = _head_hash(session)
    entry = AuditEntry(
        recorded_at=recorded_at,
        actor=actor,
        action=action,
        tip_id=tip_id,
        detail=detail_text,
        prev_hash=prev_hash,
        entry_hash=entry_digest(prev_hash, recorded_at, actor, action, tip_id, detail_text),
    )
    session.add(entry)
    session.flush()
    return entry


def first_broken_entry(session: Session) -> int | None:
    """Walk the chain oldest first and return the id of the first entry that does not fit."""
    expected_prev = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)):
        digest = entry_digest(
            entry.prev_hash,
            entry.recorded_at,
            entry.actor,
            entry.action,
            entry.tip_id,
            entry.detail,
        )
        if entry.prev_hash != expected_prev or entry.entry_hash != digest:
            return entry.entry_id
        expected_prev = entry.entry_hash
    return None


def head_hash(session: Session) -> str:
    """Return the newest entry's hash, to be noted elsewhere so truncation is detectable."""
    last = session.scalar(
        select(AuditEntry.entry_hash).order_by(AuditEntry.entry_id.desc()).limit(1)
    )
    return last or GENESIS


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
