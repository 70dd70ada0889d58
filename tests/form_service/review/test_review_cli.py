"""The desk's `form-service` commands: staff accounts, purge and audit verify."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from nacl.public import PrivateKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from form_service.cli import desk as desk_commands
from form_service.cli import staff as staff_commands
from form_service.models import AuditEntry, Staff, StaffSession
from form_service.review import audit
from form_service.settings import ReviewSettings
from tests.form_service.factories import PASSWORD, make_staff


@pytest.fixture
def run(review_settings: ReviewSettings) -> object:
    """Return a function that runs a desk command against the test database."""
    group = click.Group("form-service")
    for command in (*staff_commands.COMMANDS, *desk_commands.COMMANDS):
        group.add_command(command)
    env = {
        "FORM_SERVICE_REVIEW_SECRET_KEY": review_settings.secret_key,
        "FORM_SERVICE_DATABASE_URL": review_settings.database_url,
        "FORM_SERVICE_RETENTION_DAYS": "30",
    }

    def invoke(*args: str, stdin: str | None = None) -> click.testing.Result:
        return CliRunner().invoke(group, list(args), input=stdin, env=env)

    return invoke


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
    assert run("staff", "reset-2fa", account.email).exit_code == 0  # type: ignore[operator]
    db.expire_all()
    staff = db.get(Staff, account.staff_id)
    assert staff is not None and not staff.totp_confirmed and staff.sealed_totp_secret is None
    assert db.scalar(select(StaffSession)) is None
    assert run("staff", "disable", account.email).exit_code == 0  # type: ignore[operator]
    assert "disabled" in run("staff", "list").output  # type: ignore[operator]
    missing = run("staff", "disable", "nobody@example.org")  # type: ignore[operator]
    assert missing.exit_code == 1 and "No account" in missing.output
    actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))
    assert actions == ["staff.add", "staff.reset_2fa", "staff.disable"]


def test_purge_command_uses_the_retention_setting(run: object) -> None:
    result = run("purge")  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert "closed more than 30 days ago" in result.output


def test_audit_verify_names_the_first_broken_entry(run: object, db: Session) -> None:
    for number in range(3):
        audit.record(db, "x@example.org", "tip.view", number)
    db.commit()
    ok = run("audit", "verify")  # type: ignore[operator]
    assert ok.exit_code == 0 and "intact" in ok.output
    first = db.scalar(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id))
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_update"))
    db.execute(text("UPDATE audit_entries SET tip_id = 99 WHERE entry_id = :id"), {"id": first})
    db.commit()
    broken = run("audit", "verify")  # type: ignore[operator]
    assert broken.exit_code == 1
    assert f"broken at entry {first}" in broken.output
