"""Staff account changes shared by the CLI and the desk, each one written to the audit log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from form_service.models import Staff, StaffRole
from form_service.review import audit
from form_service.review.auth import passwords, sessions, totp


class AccountError(ValueError):
    """Raised with a message for the operator when an account change is refused."""


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
    staff.disabled = True
    sessions.end_all_sessions(db, staff.staff_id)
    audit.record(db, actor, "staff.disable", staff=staff.email)
    return staff


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


def _code_hash(code: str) -> str:
    """Return the stored form of an enrolment code (spaces, hyphens and case ignored)."""
    canonical = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def issue_enrolment_code(db: Session, staff: Staff, actor: str) -> str:
    """Give an account without an authenticator a new one-time enrolment code and return it."""
    if staff.totp_confirmed:
        raise AccountError(f"{staff.email} has an authenticator; reset it first (reset-2fa).")
    # 120 random bits in base32, in groups of four: easy to read out, never guessed.
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    code = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    staff.enrolment_code_hash = _code_hash(code)
    staff.sealed_totp_secret = None  # A secret someone saw before this code is void too.
    audit.record(db, actor, "staff.enrolment_code", staff=staff.email)
    return code


def redeem_enrolment_code(db: Session, staff: Staff, code: str) -> bool:
    """Accept an account's enrolment code once; of two racing requests only one wins."""
    expected = staff.enrolment_code_hash
    if expected is None or staff.totp_confirmed:
        return False
    if not hmac.compare_digest(expected, _code_hash(code)):
        return False
    result = db.execute(
        update(Staff)
        .where(Staff.staff_id == staff.staff_id, Staff.enrolment_code_hash == expected)
        .values(enrolment_code_hash=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    staff.enrolment_code_hash = None
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
