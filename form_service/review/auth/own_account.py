"""What staff members change on their own page: password, second factor, sessions."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from form_service.models import Staff, StaffSession
from form_service.review import audit
from form_service.review.auth import accounts, passwords, sessions


def change_password(db: Session, staff: Staff, new: str, keep_token: str | None) -> None:
    """Set a new password (checked by the caller) and end the staff member's other sessions."""
    staff.password_hash = passwords.hash_password(new)
    # Whoever had the old password may have signed in elsewhere: only this browser stays.
    end_other_sessions(db, staff, keep_token, audited=False)
    audit.record(db, staff.email, "staff.password_change", staff=staff.email)


def end_other_sessions(
    db: Session, staff: Staff, keep_token: str | None, *, audited: bool = True
) -> None:
    """End every session of the staff member except the one behind keep_token."""
    kept = sessions.token_hash(keep_token) if keep_token else ""
    db.execute(
        delete(StaffSession).where(
            StaffSession.staff_id == staff.staff_id, StaffSession.token_hash != kept
        )
    )
    if audited:
        audit.record(db, staff.email, "staff.end_other_sessions", staff=staff.email)


def end_own_session(db: Session, staff: Staff, public_id: str, live: list[StaffSession]) -> bool:
    """End one of the staff member's live sessions, named by its public id; False if none."""
    for record in live:
        if record.staff_id == staff.staff_id and sessions.public_id(record) == public_id:
            db.delete(record)
            audit.record(db, staff.email, "staff.end_session", staff=staff.email)
            return True
    return False


def restart_enrolment(db: Session, staff: Staff) -> None:
    """Forget the staff member's own authenticator, so they enrol a new one right away."""
    accounts.reset_second_factor(db, staff.email, staff.email)
