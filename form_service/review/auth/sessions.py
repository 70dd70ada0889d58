"""Server-side desk sessions: the cookie carries a random token, the database decides."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from form_service.models import SessionStage, Staff, StaffSession

# Writing last_seen_at on every request would make every page a write; a minute is plenty
# of precision for a 30-minute idle timeout.
_TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    """Return the SHA-256 under which a session token is stored (the token itself never is)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(
    db: Session, staff: Staff, stage: SessionStage, now: datetime, language: str | None = None
) -> str:
    """Create a fresh session record, started `now`, and return its new random token."""
    token = secrets.token_urlsafe(32)
    db.add(
        StaffSession(
            token_hash=token_hash(token),
            staff_id=staff.staff_id,
            stage=stage,
            created_at=now,
            last_seen_at=now,
            language=language,
        )
    )
    db.flush()
    return token


def _aware(moment: datetime) -> datetime:
    """Return a stored moment as aware UTC (SQLite returns naive values)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def load_session(
    db: Session,
    token: str | None,
    idle: timedelta,
    absolute: timedelta,
    now: datetime,
) -> tuple[StaffSession, Staff] | None:
    """Return the live session and its staff member for a token, ending it if it has expired."""
    if not token:
        return None
    record = db.get(StaffSession, token_hash(token))
    if record is None:
        return None
    staff = db.get(Staff, record.staff_id)
    expired = now - _aware(record.last_seen_at) > idle or now - _aware(record.created_at) > absolute
    if staff is None or staff.disabled or expired:
        db.delete(record)
        db.commit()
        return None
    if now - _aware(record.last_seen_at) > _TOUCH_EVERY:
        record.last_seen_at = now
        db.commit()
    return record, staff


def end_session(db: Session, token: str | None) -> None:
    """Delete a session record so its cookie stops working everywhere."""
    if token:
        db.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


def end_all_sessions(db: Session, staff_id: int) -> None:
    """Delete every session of a staff member (account disabled, 2FA reset)."""
    db.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


def live_sessions(
    db: Session, staff_id: int, idle: timedelta, absolute: timedelta, now: datetime
) -> list[StaffSession]:
    """Return a staff member's signed-in sessions that have not expired, newest first."""
    records = db.scalars(
        select(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.stage == SessionStage.SIGNED_IN)
        .order_by(StaffSession.created_at.desc())
    )
    return [
        record
        for record in records
        if now - _aware(record.last_seen_at) <= idle and now - _aware(record.created_at) <= absolute
    ]


def public_id(record: StaffSession) -> str:
    """Return a name for a session that a page may show: not its key, nor its token."""
    return hashlib.sha256(b"session-name:" + record.token_hash.encode("ascii")).hexdigest()[:16]
