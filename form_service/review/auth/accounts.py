"""Staff account changes shared by the CLI and the desk, each one written to the audit log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.models import Staff, StaffRole
from form_service.review import audit
from form_service.review.auth import passwords, sessions, totp

# How long an enrolment code, or the invitation link that carries one, stays usable.
ENROLMENT_VALID = timedelta(hours=72)


class AccountError(ValueError):
    """Raised with a message for the operator when an account change is refused."""


class LastAdminError(AccountError):
    """Raised when a change would leave the desk without an active administrator."""


def normalise_email(email: str) -> str:
    """Return the canonical form of a sign-in address (trimmed, case-folded)."""
    return email.strip().casefold()


def find_staff(db: Session, email: str) -> Staff | None:
    """Return the account with this address, if any."""
    return db.scalar(select(Staff).where(Staff.email == normalise_email(email)))


def add_staff(db: Session, email: str, role: StaffRole, password: str, actor: str) -> Staff:
    """Create an account after checking the address, the role and the password policy."""
    address = normalise_email(email)
    if "@" not in address or len(address) > 320:
        raise AccountError("Give an e-mail address as the account name.")
    if find_staff(db, address) is not None:
        raise AccountError(f"An account for {address} exists already.")
    problem = passwords.password_problem(password, context=(address, address.split("@")[0]))
    if problem:
        raise AccountError(problem)
    staff = Staff(email=address, role=role, password_hash=passwords.hash_password(password))
    db.add(staff)
    db.flush()
    audit.record(db, actor, "staff.add", staff=address, role=str(role))
    return staff


def disable_staff(db: Session, email: str, actor: str) -> Staff:
    """Disable an account and end all of its sessions at once."""
    staff = existing_staff(db, email)
    if staff.disabled:
        return staff
    _keep_an_admin(db, staff)
    staff.disabled = True
    sessions.end_all_sessions(db, staff.staff_id)
    audit.record(db, actor, "staff.disable", staff=staff.email)
    return staff


def enable_staff(db: Session, email: str, actor: str) -> Staff:
    """Let a disabled account sign in again (its old sessions stay ended)."""
    staff = existing_staff(db, email)
    if staff.disabled:
        staff.disabled = False
        audit.record(db, actor, "staff.enable", staff=staff.email)
    return staff


def change_role(db: Session, email: str, role: StaffRole, actor: str) -> Staff:
    """Give an account another role; the last active admin keeps theirs."""
    staff = existing_staff(db, email)
    if staff.role == role:
        return staff
    if role != StaffRole.ADMIN:
        _keep_an_admin(db, staff)
    before = staff.role
    staff.role = role
    audit.record(db, actor, "staff.role", staff=staff.email, before=str(before), role=str(role))
    return staff


def end_staff_sessions(db: Session, email: str, actor: str) -> Staff:
    """End every session of an account: it must sign in again everywhere."""
    staff = existing_staff(db, email)
    sessions.end_all_sessions(db, staff.staff_id)
    audit.record(db, actor, "staff.end_sessions", staff=staff.email)
    return staff


def _keep_an_admin(db: Session, staff: Staff) -> None:
    """Refuse to disable or demote `staff` if no other active admin would remain."""
    if staff.role != StaffRole.ADMIN or staff.disabled:
        return
    # Two admins demoting each other at once must not both pass: serialise on the staff rows
    # (row locks on PostgreSQL; on SQLite a write that touches no row takes the write lock).
    if db.get_bind().dialect.name == "postgresql":
        locked = select(Staff.staff_id).where(Staff.role == StaffRole.ADMIN).with_for_update()
        db.execute(locked)
    else:
        db.execute(text("UPDATE staff SET disabled = disabled WHERE 0"))
    others = db.scalar(
        select(func.count())
        .select_from(Staff)
        .where(
            Staff.role == StaffRole.ADMIN,
            Staff.disabled.is_(False),
            Staff.staff_id != staff.staff_id,
        )
    )
    if not others:
        raise LastAdminError(
            f"{staff.email} is the last active administrator: make another admin first."
        )


def reset_second_factor(db: Session, email: str, actor: str) -> Staff:
    """Forget an account's authenticator so it enrols again at its next sign-in."""
    staff = existing_staff(db, email)
    staff.sealed_totp_secret = None
    staff.totp_confirmed = False
    staff.totp_last_step = None
    sessions.end_all_sessions(db, staff.staff_id)
    audit.record(db, actor, "staff.reset_2fa", staff=staff.email)
    return staff


def list_staff(db: Session) -> list[Staff]:
    """Return every account, sorted by address."""
    return list(db.scalars(select(Staff).order_by(Staff.email)))


def existing_staff(db: Session, email: str) -> Staff:
    """Return the named account or raise AccountError."""
    staff = find_staff(db, email)
    if staff is None:
        raise AccountError(f"No account for {normalise_email(email)}.")
    return staff


def seal_secret(public_key: PublicKey, secret: str) -> bytes:
    """Seal a TOTP secret to the desk key."""
    return bytes(SealedBox(public_key).encrypt(secret.encode("ascii")))


def open_secret(private_key: PrivateKey, sealed: bytes) -> str:
    """Open a TOTP secret sealed to the desk key."""
    return bytes(SealedBox(private_key).decrypt(sealed)).decode("ascii")


def code_hash(code: str) -> str:
    """Return the stored form of an enrolment code (spaces, hyphens and case ignored)."""
    canonical = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def issue_enrolment_code(
    db: Session, staff: Staff, actor: str, *, clock: Clock = SYSTEM_CLOCK
) -> str:
    """Give an account without an authenticator a one-time code (valid 72 h) and return it."""
    if staff.totp_confirmed:
        raise AccountError(f"{staff.email} has an authenticator; reset it first (reset-2fa).")
    # 120 random bits in base32, in groups of four: easy to read out, never guessed.
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    code = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    staff.enrolment_code_hash = code_hash(code)
    staff.enrolment_code_expires_at = clock.now() + ENROLMENT_VALID
    staff.sealed_totp_secret = None  # A secret someone saw before this code is void too.
    audit.record(db, actor, "staff.enrolment_code", staff=staff.email)
    return code


def code_is_live(staff: Staff, now: datetime) -> bool:
    """Tell whether the account holds an enrolment code that has not expired at `now`."""
    expires = staff.enrolment_code_expires_at
    if staff.enrolment_code_hash is None or staff.totp_confirmed or expires is None:
        return False
    expires = expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires  # SQLite
    return now < expires


def redeem_enrolment_code(db: Session, staff: Staff, code: str, now: datetime) -> bool:
    """Accept an account's live enrolment code once; of two racing requests only one wins."""
    expected = staff.enrolment_code_hash
    if expected is None or not code_is_live(staff, now):
        return False
    if not hmac.compare_digest(expected, code_hash(code)):
        return False
    result = db.execute(
        update(Staff)
        .where(Staff.staff_id == staff.staff_id, Staff.enrolment_code_hash == expected)
        .values(enrolment_code_hash=None, enrolment_code_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    staff.enrolment_code_hash = None
    staff.enrolment_code_expires_at = None
    return True


def begin_enrolment(db: Session, staff: Staff, private_key: PrivateKey) -> str:
    """Give an unenrolled account a new TOTP secret (kept until confirmed) and return it."""
    if staff.sealed_totp_secret is not None and not staff.totp_confirmed:
        return open_secret(private_key, staff.sealed_totp_secret)
    secret = totp.new_secret()
    staff.sealed_totp_secret = seal_secret(private_key.public_key, secret)
    staff.totp_confirmed = False
    staff.totp_last_step = None
    db.flush()
    return secret


def accept_code(db: Session, staff: Staff, private_key: PrivateKey, code: str, now: float) -> bool:
    """Check a TOTP code at `now` (the app's clock) and burn its step: it never works twice."""
    if staff.sealed_totp_secret is None:
        return False
    secret = open_secret(private_key, staff.sealed_totp_secret)
    step = totp.matching_step(secret, code, staff.totp_last_step, now)
    if step is None:
        return False
    # A conditional UPDATE: of two workers racing with the same code, only one sees rowcount 1.
    result = db.execute(
        update(Staff)
        .where(Staff.staff_id == staff.staff_id)
        .where(or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    staff.totp_last_step = step
    return True


Change = Callable[[Session, str, str], Staff]
