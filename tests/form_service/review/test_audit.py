"""The audit log's hash chain verifies, names the first tampered entry and cannot fork.

The database's triggers refuse updates and deletes (tested here too).
"""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from nacl.public import PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from form_service.frame import STATE_KEY
from form_service.models import AuditEntry, Staff
from form_service.review import audit

WORKERS = 12


def test_audit_chain_verifies_and_names_the_first_tampered_entry(
    db: Session, desk_private_key: PrivateKey
) -> None:
    for number in range(5):
        audit.record(db, "someone@example.org", "tip.view", number)
    db.commit()
    assert audit.first_broken_entry(db) is None
    ids = list(db.scalars(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id)))
    dialect = db.get_bind().dialect.name
    # Someone with full database rights switches the triggers off and rewrites history.
    if dialect == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.execute(text("DROP TRIGGER audit_entries_no_delete"))
    db.execute(
        text("UPDATE audit_entries SET actor = 'nobody' WHERE entry_id = :id"), {"id": ids[2]}
    )
    db.commit()
    assert audit.first_broken_entry(db) == ids[2]
    db.execute(
        text("UPDATE audit_entries SET actor = 'someone@example.org' WHERE entry_id = :id"),
        {"id": ids[2]},
    )
    db.execute(text("DELETE FROM audit_entries WHERE entry_id = :id"), {"id": ids[1]})
    db.commit()
    assert audit.first_broken_entry(db) == ids[2]


def test_the_audit_log_refuses_updates_and_deletes(db: Session) -> None:
    audit.record(db, "a@example.org", "sign_out")
    db.commit()
    with pytest.raises(DBAPIError):
        db.execute(text("UPDATE audit_entries SET actor = 'x'"))
    db.rollback()
    with pytest.raises(DBAPIError):
        db.execute(text("DELETE FROM audit_entries"))
    db.rollback()


def test_a_forked_chain_is_refused(db: Session) -> None:
    audit.record(db, "a@example.org", "sign_out")
    db.commit()
    head = db.scalar(select(AuditEntry))
    assert head is not None
    db.add(
        AuditEntry(
            recorded_at=head.recorded_at,
            actor="b",
            action="x",
            tip_id=None,
            detail="{}",
            prev_hash=head.prev_hash,
            entry_hash="f" * 64,
        )
    )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_parallel_appends_all_land_on_one_chain(review_app: Flask, db: Session) -> None:
    # Workers that each read something first, then append at the same moment: on SQLite
    # they used to read the same head, and all but one failed on the unique prev_hash.
    # Twelve: fewer than the engine's pool holds, so no worker waits for a connection.
    factory = review_app.extensions[STATE_KEY].session_factory
    start, failures = threading.Barrier(WORKERS, timeout=30), []

    def append(number: int) -> None:
        with factory() as session:
            session.scalar(select(Staff).where(Staff.email == "nobody@example.org"))
            start.wait()
            try:
                audit.record(session, "(unknown account)", "sign_in.failure", factor="password")
                session.commit()
            except Exception as error:  # any failure at all is what the test reports
                failures.append(repr(error))

    workers = [threading.Thread(target=append, args=(n,)) for n in range(WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == WORKERS
    assert audit.first_broken_entry(db) is None
