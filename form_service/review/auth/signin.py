"""Signing in with two factors: throttled, audited, and silent about which accounts exist.

The checks return an error message to show (or None); the views decide what the cookie holds.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.models import SessionStage, Staff
from form_service.review import audit
from form_service.review.auth import accounts, passwords, sessions
from form_service.review.auth.throttle import SignInThrottle

UNKNOWN_ACTOR = "(unknown account)"


def failure_message() -> str:
    """Return the one message for every failed attempt, whatever went wrong."""
    return str(_("That did not work. Check the e-mail address, the password and the code."))


def wait_message(throttle: SignInThrottle, account: str) -> str:
    """Return the message shown while an account must wait."""
    seconds = throttle.seconds_to_wait(account)
    return str(
        _(
            "Too many failed attempts on this account. Wait %(seconds)s seconds, then try again.",
            seconds=seconds,
        )
    )


def check_password(
    db: Session, throttle: SignInThrottle, email: str, password: str
) -> tuple[Staff | None, str | None]:
    """Return the staff member whose password this is, or an error message to show."""
    account = accounts.normalise_email(email)
    if throttle.must_wait(account):
        return None, wait_message(throttle, account)
    staff = accounts.find_staff(db, account)
    if staff is None or staff.disabled:
        passwords.dummy_verify(password)  # Same time spent whether the account exists or not.
        valid = False
    else:
        valid = passwords.verify_password(staff.password_hash, password)
    if not valid:
        throttle.failed(account)
        actor = staff.email if staff else UNKNOWN_ACTOR
        audit.record(db, actor, "sign_in.failure", factor="password")
        db.commit()
        return None, failure_message()
    return staff, None


def start_half_session(db: Session, staff: Staff, now: datetime) -> str:
    """Start the half-signed-in session that waits for the second factor; return its token."""
    token = sessions.start_session(db, staff, SessionStage.PASSWORD, now)
    db.commit()
    return token


def check_code(
    db: Session,
    throttle: SignInThrottle,
    private_key: PrivateKey,
    staff: Staff,
    code: str,
    now: datetime,
) -> str | None:
    """Accept a TOTP code for this staff member at `now`, or return an error message to show."""
    if throttle.must_wait(staff.email):
        return wait_message(throttle, staff.email)
    if not accounts.accept_code(db, staff, private_key, code, now.timestamp()):
        db.rollback()
        throttle.failed(staff.email)
        audit.record(db, staff.email, "sign_in.failure", factor="totp")
        db.commit()
        return failure_message()
    return None


def check_enrolment_code(
    db: Session, throttle: SignInThrottle, staff: Staff, code: str
) -> str | None:
    """Accept the one-time enrolment code of this account, or return an error message."""
    if throttle.must_wait(staff.email):
        return wait_message(throttle, staff.email)
    if not accounts.redeem_enrolment_code(db, staff, code):
        db.rollback()
        throttle.failed(staff.email)
        audit.record(db, staff.email, "sign_in.failure", factor="enrolment_code")
        db.commit()
        return failure_message()
    audit.record(db, staff.email, "staff.enrolment_code_used", staff=staff.email)
    db.commit()
    return None


def complete_sign_in(
    db: Session,
    throttle: SignInThrottle,
    staff: Staff,
    half_token: str | None,
    enrolled: bool,
    now: datetime,
) -> str:
    """Replace the half session with a new fully signed-in one; return the new token."""
    sessions.end_session(db, half_token)
    if enrolled:
        staff.totp_confirmed = True
        audit.record(db, staff.email, "staff.enrol_2fa", staff=staff.email)
    token = sessions.start_session(db, staff, SessionStage.SIGNED_IN, now)
    audit.record(db, staff.email, "sign_in.success")
    db.commit()
    throttle.clear(staff.email)
    return token


def sign_out(db: Session, staff: Staff | None, token: str | None) -> None:
    """End the session record behind the cookie (a copied cookie stops working too)."""
    sessions.end_session(db, token)
    if staff is not None:
        audit.record(db, staff.email, "sign_out")
    db.commit()
