"""Writing and checking the desk's audit log: entries linked by a SHA-256 hash chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.models import AuditEntry

GENESIS = "0" * 64
PAGE_SIZE = 100
# Any constant works; it names the PostgreSQL advisory lock that serialises appends.
_CHAIN_LOCK = 0x5EC0_A0D1


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
    else:
        # SQLite reads outside a transaction until the first write, so two workers would read
        # the same head and the second insert would fail on the unique prev_hash. A write that
        # touches no row takes the database's write lock first (waiting up to busy_timeout);
        # the head read after it is the true head until this transaction ends.
        session.execute(text("DELETE FROM audit_entries WHERE 0"))
    last = session.scalar(
        select(AuditEntry.entry_hash).order_by(AuditEntry.entry_id.desc()).limit(1)
    )
    return last or GENESIS


def record(
    session: Session,
    actor: str,
    action: str,
    tip_id: int | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    **detail: Any,
) -> AuditEntry:
    """Append an entry in the caller's transaction; detail must never hold tip content."""
    recorded_at = clock.now()
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


@dataclass(frozen=True)
class AuditQuery:
    """What the audit log page is narrowed to; None means no constraint."""

    actor: str | None = None
    action: str | None = None
    tip_id: int | None = None
    recorded_from: date | None = None
    recorded_to: date | None = None


def audit_page(session: Session, query: AuditQuery, page: int) -> tuple[list[AuditEntry], int]:
    """Return one page of entries (newest first) matching the query, and the total count."""
    selected = select(AuditEntry)
    if query.actor:
        selected = selected.where(AuditEntry.actor == query.actor)
    if query.action:
        selected = selected.where(AuditEntry.action == query.action)
    if query.tip_id is not None:
        selected = selected.where(AuditEntry.tip_id == query.tip_id)
    if query.recorded_from:
        start = datetime.combine(query.recorded_from, time(), UTC)
        selected = selected.where(AuditEntry.recorded_at >= start)
    if query.recorded_to and query.recorded_to < date.max:  # date.max: no end to cut at
        end = datetime.combine(query.recorded_to, time(), UTC) + timedelta(days=1)
        selected = selected.where(AuditEntry.recorded_at < end)
    total = session.scalar(select(func.count()).select_from(selected.subquery())) or 0
    page = max(1, page)
    entries = session.scalars(
        selected.order_by(AuditEntry.entry_id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return list(entries), total
