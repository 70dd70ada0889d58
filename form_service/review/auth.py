"""Signing in with two factors: throttled, audited, and silent about which accounts exist."""

from __future__ import annotations

from flask import session
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from form_service import audit
from form_service.review import accounts, passwords, sessions
from form_service.review.throttle import SignInThrottle
from form_service.review.web import TOKEN_KEY, desk
from form_service.staff import SessionStage, Staff

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


def check_password(db: Session, email: str, password: str) -> tuple[Staff | None, str | None]:
    """Return the staff member whose password this is, or an error message to show."""
    throttle = desk().throttle
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


def _fresh_cookie() -> None:
    """Empty the cookie (new CSRF secret too) but keep the chosen language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def begin_session(db: Session, staff: Staff) -> None:
    """Start the half-signed-in session that waits for the second factor."""
    _fresh_cookie()
    session[TOKEN_KEY] = sessions.start_session(db, staff, SessionStage.PASSWORD)
    db.commit()


def check_code(db: Session, staff: Staff, code: str) -> str | None:
    """Accept a TOTP code for this staff member, or return an error message to show."""
    throttle = desk().throttle
    if throttle.must_wait(staff.email):
        return wait_message(throttle, staff.email)
    if not accounts.accept_code(db, staff, desk().private_key, code):
        db.rollback()
        throttle.failed(staff.email)
        audit.record(db, staff.email, "sign_in.failure", factor="totp")
        db.commit()
        return failure_message()
    return None


def complete_sign_in(db: Session, staff: Staff, enrolled: bool) -> None:
    """Replace the half session with a new fully signed-in one (a new session id)."""
    sessions.end_session(db, session.get(TOKEN_KEY))
    if enrolled:
        staff.totp_confirmed = True
        audit.record(db, staff.email, "staff.enrol_2fa", staff=staff.email)
    _fresh_cookie()
    session[TOKEN_KEY] = sessions.start_session(db, staff, SessionStage.SIGNED_IN)
    audit.record(db, staff.email, "sign_in.success")
    db.commit()
    desk().throttle.clear(staff.email)


def sign_out(db: Session, staff: Staff | None) -> None:
    """End the session record behind the cookie and forget the cookie."""
    sessions.end_session(db, session.get(TOKEN_KEY))
    if staff is not None:
        audit.record(db, staff.email, "sign_out")
    db.commit()
    _fresh_cookie()
