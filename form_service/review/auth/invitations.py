"""Inviting staff from the desk: a one-time enrolment link, then a password and TOTP.

The link carries an enrolment code (accounts.issue_enrolment_code): only its SHA-256 is
stored, it dies after 72 hours or at first use, and it is shown to the inviting admin once.
Until the invitee sets a password the account holds a marker no password can match.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.models import Staff, StaffRole
from form_service.review import audit
from form_service.review.auth import accounts, passwords

# Not an Argon2 hash, so verify_password refuses every password against it.
INVITED = "!invited"


def is_invited(staff: Staff) -> bool:
    """Tell whether an account still waits for its invitee to set a password."""
    return staff.password_hash == INVITED


def invite_staff(
    db: Session, email: str, role: StaffRole, actor: str, *, clock: Clock = SYSTEM_CLOCK
) -> tuple[Staff, str]:
    """Create an invited account and return it with the enrolment code its link carries."""
    address = accounts.normalise_email(email)
    if "@" not in address or len(address) > 320:
        raise accounts.AccountError("Give an e-mail address as the account name.")
    if accounts.find_staff(db, address) is not None:
        raise accounts.AccountError(f"An account for {address} exists already.")
    staff = Staff(email=address, role=role, password_hash=INVITED)
    db.add(staff)
    db.flush()
    audit.record(db, actor, "staff.invite", staff=address, role=str(role))
    return staff, accounts.issue_enrolment_code(db, staff, actor, clock=clock)


def find_invitation(db: Session, code: str, now: datetime) -> Staff | None:
    """Return the invited account whose live link carries this code, if any."""
    # 120 random bits: looking the hash up directly tells an attacker nothing usable.
    staff = db.scalar(select(Staff).where(Staff.enrolment_code_hash == accounts.code_hash(code)))
    if staff is None or staff.disabled or not is_invited(staff):
        return None
    return staff if accounts.code_is_live(staff, now) else None


def accept_invitation(db: Session, staff: Staff, code: str, password: str, now: datetime) -> bool:
    """Use the link once: set the invitee's password; False if the link is spent or expired."""
    if not accounts.redeem_enrolment_code(db, staff, code, now):
        return False
    staff.password_hash = passwords.hash_password(password)
    audit.record(db, staff.email, "staff.invitation_accepted", staff=staff.email)
    return True
