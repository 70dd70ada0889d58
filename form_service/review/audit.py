"""Writing and checking the desk's audit log: entries linked by a keyed hash chain.

Each entry's hash is an HMAC-SHA256, under the audit key, of its fields and the previous
entry's hash. The key lives in a file the database never holds (FORM_SERVICE_AUDIT_KEY_FILE),
handed to the session as `session.info["audit_key"]`: whoever can write to the database but
lacks the key cannot re-link a rewritten chain. Without a key (development, tests) the links
are plain SHA-256, which only catches accidents. Pruned entries leave an anchor (the hash
of the last one pruned and the count so far) where verification resumes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.models import AuditAnchor, AuditEntry

GENESIS = "0" * 64
# Where a session carries the audit key (sessionmaker(info=...)); absent: unkeyed links.
AUDIT_KEY = "audit_key"
PAGE_SIZE = 100
# Any constant works; it names the PostgreSQL advisory lock that serialises appends.
_CHAIN_LOCK = 0x5EC0_A0D1


def _utc_naive(moment: datetime) -> datetime:
    """Return a moment as naive UTC, the same on SQLite (no zone) and PostgreSQL."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _digest(fields: list[Any], key: bytes | None) -> str:
    """Return the HMAC-SHA256 of fields under key, or their SHA-256 without a key."""
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if key is None:
        return hashlib.sha256(encoded).hexdigest()
    return hmac.new(key, encoded, hashlib.sha256).hexdigest()


def entry_digest(
    prev_hash: str,
    recorded_at: datetime,
    actor: str,
    action: str,
    tip_id: int | None,
    detail: str,
    key: bytes | None = None,
) -> str:
    """Return the link of an entry: its fields and the previous entry's hash, keyed."""
    moment = _utc_naive(recorded_at).isoformat(timespec="seconds")
    return _digest([prev_hash, moment, actor, action, tip_id, detail], key)


def anchor_digest(through_entry_id: int, through_hash: str, entries: int, key: bytes | None) -> str:
    """Return the keyed hash that seals an anchor's three facts."""
    return _digest(["anchor", through_entry_id, through_hash, entries], key)


def session_key(session: Session) -> bytes | None:
    """Return the audit key the session was opened with, if any."""
    key = session.info.get(AUDIT_KEY)
    return key if isinstance(key, bytes) else None


def latest_anchor(session: Session) -> AuditAnchor | None:
    """Return the newest anchor (where the chain resumes), or None if nothing was pruned."""
    return session.scalar(
        select(AuditAnchor).order_by(AuditAnchor.through_entry_id.desc()).limit(1)
    )


def _resume_point(session: Session) -> tuple[str, int]:
    """Return the hash the first kept entry links to and the last pruned entry's id."""
    anchor = latest_anchor(session)
    if anchor is None:
        return GENESIS, 0
    return anchor.through_hash, anchor.through_entry_id


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
    return head_hash(session)


def lock_chain(session: Session) -> str:
    """Hold the append lock until the transaction ends; return the head it protects."""
    return _head_hash(session)


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
        entry_hash=entry_digest(
            prev_hash, recorded_at, actor, action, tip_id, detail_text, session_key(session)
        ),
    )
    session.add(entry)
    session.flush()
    return entry


def first_broken_entry(session: Session) -> int | None:
    """Walk the chain from its anchor and return the id of the first entry that does not fit.

    A forged or moved anchor counts as broken at the entry it claims to end with.
    """
    key = session_key(session)
    anchor = latest_anchor(session)
    if anchor is not None:
        sealed = anchor_digest(anchor.through_entry_id, anchor.through_hash, anchor.entries, key)
        if not hmac.compare_digest(sealed, anchor.anchor_hash):
            return anchor.through_entry_id
    expected_prev, after = _resume_point(session)
    kept = select(AuditEntry).where(AuditEntry.entry_id > after).order_by(AuditEntry.entry_id)
    for entry in session.scalars(kept):
        digest = entry_digest(
            entry.prev_hash,
            entry.recorded_at,
            entry.actor,
            entry.action,
            entry.tip_id,
            entry.detail,
            key,
        )
        if entry.prev_hash != expected_prev or not hmac.compare_digest(entry.entry_hash, digest):
            return entry.entry_id
        expected_prev = entry.entry_hash
    return None


def head_hash(session: Session) -> str:
    """Return the newest entry's hash, to be noted elsewhere so truncation is detectable."""
    last = session.scalar(
        select(AuditEntry.entry_hash).order_by(AuditEntry.entry_id.desc()).limit(1)
    )
    return last or _resume_point(session)[0]


def entry_count(session: Session) -> int:
    """Return how many entries the chain ever held: those pruned and those kept."""
    anchor = latest_anchor(session)
    pruned, after = (anchor.entries, anchor.through_entry_id) if anchor else (0, 0)
    kept = select(func.count()).select_from(AuditEntry).where(AuditEntry.entry_id > after)
    return pruned + (session.scalar(kept) or 0)


def holds_head(session: Session, head: str) -> bool:
    """Tell whether a head noted earlier is still in the chain (or is the newest anchor's)."""
    if head in (GENESIS, _resume_point(session)[0]):
        return True
    found = select(AuditEntry.entry_id).where(AuditEntry.entry_hash == head).limit(1)
    return session.scalar(found) is not None


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
