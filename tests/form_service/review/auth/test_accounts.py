"""Account changes shared by the CLI and the desk: roles, disabling, sessions, code expiry.

The last active admin can be neither disabled nor demoted; every change is audited.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from nacl.public import PrivateKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.frame import STATE_KEY
from form_service.models import AuditEntry, Staff, StaffRole, StaffSession
from form_service.review.auth import accounts
from tests.form_service.factories import FIXED_MOMENT, make_staff


def _actions(db: Session) -> list[str]:
    """Return the audited actions, oldest first."""
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(
    db: Session, desk_private_key: PrivateKey
) -> None:
    admin = make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    with pytest.raises(accounts.LastAdminError):
        accounts.disable_staff(db, admin.email, "admin@example.org")
    with pytest.raises(accounts.LastAdminError):
        accounts.change_role(db, admin.email, StaffRole.REVIEWER, "admin@example.org")
    db.rollback()
    staff = db.get(Staff, admin.staff_id)
    assert staff is not None and staff.role == StaffRole.ADMIN and not staff.disabled


def test_a_disabled_admin_does_not_count_as_the_other_admin(
    db: Session, desk_private_key: PrivateKey
) -> None:
    first = make_staff(db, desk_private_key, "first@example.org", StaffRole.ADMIN)
    second = make_staff(db, desk_private_key, "second@example.org", StaffRole.ADMIN)
    accounts.disable_staff(db, second.email, first.email)
    db.commit()
    with pytest.raises(accounts.LastAdminError):
        accounts.change_role(db, first.email, StaffRole.REVIEWER, first.email)
    db.rollback()
    accounts.enable_staff(db, second.email, first.email)
    accounts.change_role(db, first.email, StaffRole.REVIEWER, second.email)
    db.commit()
    assert db.get(Staff, first.staff_id).role == StaffRole.REVIEWER  # type: ignore[union-attr]
    # Now the second is the last one.
    with pytest.raises(accounts.LastAdminError):
        accounts.disable_staff(db, second.email, second.email)


def test_reviewers_are_disabled_promoted_and_re_enabled_with_audit_entries(
    db: Session, desk_private_key: PrivateKey
) -> None:
    make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    reviewer = make_staff(db, desk_private_key)
    db.add(StaffSession(token_hash="b" * 64, staff_id=reviewer.staff_id, stage="signed_in"))
    db.commit()
    accounts.disable_staff(db, reviewer.email, "admin@example.org")
    assert db.scalar(select(StaffSession)) is None  # disabling ends the sessions
    accounts.disable_staff(db, reviewer.email, "admin@example.org")  # no second entry
    accounts.enable_staff(db, reviewer.email, "admin@example.org")
    accounts.change_role(db, reviewer.email, StaffRole.ADMIN, "admin@example.org")
    accounts.change_role(db, reviewer.email, StaffRole.ADMIN, "admin@example.org")  # no-op
    db.add(StaffSession(token_hash="c" * 64, staff_id=reviewer.staff_id, stage="signed_in"))
    accounts.end_staff_sessions(db, reviewer.email, "admin@example.org")
    db.commit()
    assert db.scalar(select(StaffSession)) is None
    assert _actions(db)[-4:] == [
        "staff.disable",
        "staff.enable",
        "staff.role",
        "staff.end_sessions",
    ]
    role_entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "staff.role"))
    assert role_entry is not None and '"before": "reviewer"' in role_entry.detail
    with pytest.raises(accounts.AccountError, match="No account"):
        accounts.enable_staff(db, "nobody@example.org", "admin@example.org")


def test_an_enrolment_code_dies_72_hours_after_it_was_issued(
    db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key, enrolled=False)
    staff = db.get(Staff, account.staff_id)
    assert staff is not None and account.enrolment_code is not None
    almost = FIXED_MOMENT + accounts.ENROLMENT_VALID - timedelta(seconds=1)
    assert accounts.code_is_live(staff, almost)
    assert not accounts.redeem_enrolment_code(
        db, staff, account.enrolment_code, FIXED_MOMENT + accounts.ENROLMENT_VALID
    )
    assert accounts.redeem_enrolment_code(db, staff, account.enrolment_code, almost)
    assert not accounts.redeem_enrolment_code(db, staff, account.enrolment_code, almost)
    db.commit()
    db.expire_all()
    assert db.get(Staff, account.staff_id).enrolment_code_expires_at is None  # type: ignore[union-attr]


def test_a_new_code_starts_a_new_72_hours(db: Session, desk_private_key: PrivateKey) -> None:
    account = make_staff(db, desk_private_key, enrolled=False)
    staff = db.get(Staff, account.staff_id)
    assert staff is not None
    later = FixedClock(FIXED_MOMENT + timedelta(days=5))
    code = accounts.issue_enrolment_code(db, staff, "admin@example.org", clock=later)
    db.commit()
    assert not accounts.redeem_enrolment_code(db, staff, account.enrolment_code or "", later.now())
    assert accounts.redeem_enrolment_code(db, staff, code, later.now() + timedelta(hours=71))


# Row locks are PostgreSQL's; SQLite lets one writer in at a time and refuses the other.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    first_admin = make_staff(db, desk_private_key, "first@example.org", StaffRole.ADMIN)
    second_admin = make_staff(db, desk_private_key, "second@example.org", StaffRole.ADMIN)
    state = review_app.extensions[STATE_KEY]
    first, second = state.session_factory(), state.session_factory()
    outcome: list[str] = []

    def demote_the_first() -> None:
        """Demote the first admin in another transaction, while the first change is open."""
        try:
            accounts.change_role(second, first_admin.email, StaffRole.REVIEWER, second_admin.email)
            second.commit()
            outcome.append("demoted")
        except accounts.LastAdminError:
            second.rollback()
            outcome.append("refused")
        except Exception as error:  # said in the failure below, not lost in the thread
            second.rollback()
            outcome.append(f"raised {error!r}")

    try:
        # Uncommitted: the first transaction holds its locks while the second one starts.
        accounts.change_role(first, second_admin.email, StaffRole.REVIEWER, first_admin.email)
        worker = threading.Thread(target=demote_the_first)
        worker.start()
        # Until the second transaction waits on a lock. A bound on the time, not on the polls:
        # on a busy machine the thread may not even have started after thousands of them.
        # The second change finishing without having waited is the failure this looks for.
        deadline = time.monotonic() + 120
        with state.engine.connect() as watcher:
            while not watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
            ):
                if not worker.is_alive() or time.monotonic() > deadline:
                    pytest.fail(f"the second change never waited for the first: {outcome}")
                time.sleep(0.01)
        first.commit()
        worker.join(timeout=60)
    finally:
        first.close()
        second.close()
    assert outcome == ["refused"]
    db.expire_all()
    admins = db.scalars(select(Staff.email).where(Staff.role == StaffRole.ADMIN))
    assert list(admins) == [first_admin.email]
