"""Signing in with two factors: throttled, audited, and silent about which accounts exist.

The checks return an error message to show (or None); the views decide what the cookie holds.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.models import SessionStage, Staff, StaffSession
from form_service.review import audit
from form_service.review.auth import accounts, passwords, recovery, sessions
from form_service.review.auth.throttle import Refusal, SignInThrottle

UNKNOWN_ACTOR = "(unknown account)"


def failure_message() -> str:
    """Return the one message for every failed attempt, whatever went wrong."""
    return str(_("That did not work. Check the e-mail address, the password and the code."))


def wait_message(refusal: Refusal) -> str:
    """Return the message shown while an attempt must wait."""
    if refusal.reason == "account":
        return str(
            _(
                "Too many failed attempts on this account. Wait %(seconds)s seconds, then try "
                "again.",
                seconds=refusal.seconds,
            )
        )
    return str(
        _(
            "Too many sign-in attempts right now. Wait %(seconds)s seconds, then try again.",
            seconds=refusal.seconds,
        )
    )


def check_password(
    db: Session, throttle: SignInThrottle, email: str, password: str, address: str
) -> tuple[Staff | None, str | None]:
    """Return the staff member whose password this is, or an error message to show."""
    account = accounts.normalise_email(email)
    # Counted before the check: parallel attempts cannot all pass a limit they all read.
    refusal = throttle.admit_password(account, address)
    if refusal is not None:
        return None, wait_message(refusal)
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
    half_token: str | None,
    now: datetime,
) -> str | None:
    """Accept a TOTP code for this staff member at `now`, or return an error message to show.

    Wrong codes count only here, after a correct password; CODES_PER_PASSWORD of them end the
    half session, so the next try needs the password again.
    """
    refusal = throttle.admit_code(staff.email)
    if refusal is not None:
        return wait_message(refusal)
    if not accounts.accept_code(db, staff, private_key, code, now.timestamp()):
        db.rollback()
        return _code_failed(db, throttle, staff, half_token, "totp")
    return None


def check_recovery_code(
    db: Session, throttle: SignInThrottle, staff: Staff, code: str, half_token: str | None
) -> str | None:
    """Accept one of the staff member's recovery codes in place of TOTP, or return an error."""
    refusal = throttle.admit_code(staff.email)
    if refusal is not None:
        return wait_message(refusal)
    if not staff.totp_confirmed or not recovery.use_code(db, staff, code):
        db.rollback()
        return _code_failed(db, throttle, staff, half_token, "recovery_code")
    return None


def _code_failed(
    db: Session, throttle: SignInThrottle, staff: Staff, half_token: str | None, factor: str
) -> str:
    """Count and audit a wrong code; after too many, end the half session."""
    throttle.failed(staff.email)
    audit.record(db, staff.email, "sign_in.failure", factor=factor)
    if throttle.code_failed(half_token or ""):
        sessions.end_session(db, half_token)
        audit.record(db, staff.email, "sign_in.password_required", factor=factor)
        db.commit()
        return str(_("Too many wrong codes. Sign in again with your e-mail address and password."))
    db.commit()
    return failure_message()


def needs_password(db: Session, half_token: str | None) -> bool:
    """Tell whether the half session behind a cookie has ended (too many wrong codes)."""
    return not half_token or db.get(StaffSession, sessions.token_hash(half_token)) is None


def check_enrolment_code(
    db: Session,
    throttle: SignInThrottle,
    staff: Staff,
    code: str,
    half_token: str | None,
    now: datetime,
) -> str | None:
    """Accept the one-time enrolment code of this account, or return an error message."""
    refusal = throttle.admit_code(staff.email)
    if refusal is not None:
        return wait_message(refusal)
    if not accounts.redeem_enrolment_code(db, staff, code, now):
        db.rollback()
        return _code_failed(db, throttle, staff, half_token, "enrolment_code")
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
    language: str | None = None,
) -> str:
    """Replace the half session with a new fully signed-in one; return the new token."""
    sessions.end_session(db, half_token)
    staff.last_sign_in_on = now.date()
    if enrolled:
        staff.totp_confirmed = True
        audit.record(db, staff.email, "staff.enrol_2fa", staff=staff.email)
    token = sessions.start_session(db, staff, SessionStage.SIGNED_IN, now, language)
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
