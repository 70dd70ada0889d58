"""`form-service staff ...`: desk accounts from the command line; there is no default account."""

from __future__ import annotations

import pytest
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import AuditEntry, Staff, StaffRole, StaffSession
from tests.form_service.factories import PASSWORD, make_staff


def test_staff_add_reads_the_password_from_stdin_and_hashes_it(run: object, db: Session) -> None:
    result = run(
        "staff",
        "add",
        "New.Person@Example.org",
        "--role",
        "admin",  # type: ignore[operator]
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    staff = db.scalar(select(Staff))
    assert staff is not None and staff.email == "new.person@example.org"
    assert staff.role == "admin" and staff.password_hash.startswith("$argon2id$")
    assert not staff.totp_confirmed
    # The one-time enrolment code is printed once; the table keeps only its hash.
    code = result.output.rsplit(": ", 1)[1].strip()
    assert len(code.replace("-", "")) == 24
    first_hash = staff.enrolment_code_hash
    assert first_hash is not None and code not in first_hash
    again = run("staff", "enrolment-code", staff.email)  # type: ignore[operator]
    db.expire_all()
    assert again.exit_code == 0 and code not in again.output
    assert db.scalar(select(Staff.enrolment_code_hash)) not in (None, first_hash)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short one", "at least 15"),
        ("passwordpassword", "too easy to guess"),
    ],
)
def test_staff_add_refuses_weak_passwords_with_a_reason(
    run: object, db: Session, password: str, reason: str
) -> None:
    result = run("staff", "add", "a@example.org", "--role", "reviewer", stdin=password + "\n")  # type: ignore[operator]
    assert result.exit_code == 1
    assert reason in result.output
    assert db.scalar(select(Staff)) is None


def test_there_is_no_default_account(db: Session) -> None:
    assert db.scalar(select(Staff)) is None


def test_staff_list_disable_and_reset_2fa(
    run: object, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    db.add(StaffSession(token_hash="a" * 64, staff_id=account.staff_id, stage="signed_in"))
    db.commit()
    listed = run("staff", "list")  # type: ignore[operator]
    assert "reviewer@example.org\treviewer\t2fa\tactive" in listed.output
    reset = run("staff", "reset-2fa", account.email)  # type: ignore[operator]
    assert reset.exit_code == 0 and "Enrolment code" in reset.output
    db.expire_all()
    staff = db.get(Staff, account.staff_id)
    assert staff is not None and not staff.totp_confirmed and staff.sealed_totp_secret is None
    assert db.scalar(select(StaffSession)) is None
    assert run("staff", "disable", account.email).exit_code == 0  # type: ignore[operator]
    assert "disabled" in run("staff", "list").output  # type: ignore[operator]
    missing = run("staff", "disable", "nobody@example.org")  # type: ignore[operator]
    assert missing.exit_code == 1 and "No account" in missing.output
    actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))
    assert actions == ["staff.add", "staff.reset_2fa", "staff.enrolment_code", "staff.disable"]


def test_staff_role_and_enable_keep_the_last_admin(
    run: object, db: Session, desk_private_key: PrivateKey
) -> None:
    admin = make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    reviewer = make_staff(db, desk_private_key)
    demoted = run("staff", "role", admin.email, "--role", "reviewer")  # type: ignore[operator]
    assert demoted.exit_code == 1 and "last active administrator" in demoted.output
    refused = run("staff", "disable", admin.email)  # type: ignore[operator]
    assert refused.exit_code == 1 and "last active administrator" in refused.output
    promoted = run("staff", "role", reviewer.email, "--role", "admin")  # type: ignore[operator]
    assert promoted.exit_code == 0, promoted.output
    assert run("staff", "disable", admin.email).exit_code == 0  # type: ignore[operator]
    assert run("staff", "enable", admin.email).exit_code == 0  # type: ignore[operator]
    db.expire_all()
    assert not db.get(Staff, admin.staff_id).disabled  # type: ignore[union-attr]
    actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.actor == "cli")))
    assert actions[-3:] == ["staff.role", "staff.disable", "staff.enable"]
