"""The keyed audit chain: a rewrite without the key shows, pruning leaves a sealed anchor.

The attacker here holds every database right (triggers off, rows rewritten, links
recomputed) but not the audit key, which lives in a file the database never holds.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import AuditAnchor, AuditEntry
from form_service.review import audit, auditkeep
from tests.form_service.factories import make_review_settings
from tests.form_service.smtp import Sink

KEY = b"audit-key-for-tests-" + b"k" * 32
START = dt.datetime(2024, 1, 10, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def keyed(db: Session) -> Iterator[Session]:
    """Open a session that carries the audit key, as the desk's and the CLI's do."""
    with Session(db.get_bind(), info={audit.AUDIT_KEY: KEY}) as session:
        yield session


def record_days(session: Session, days: int, start: dt.datetime = START) -> FixedClock:
    """Record one entry a day for `days` days from `start`; return the clock after them."""
    clock = FixedClock(start)
    for number in range(days):
        audit.record(session, "someone@example.org", "tip.view", number, clock=clock)
        clock.advance(days=1)
    session.commit()
    return clock


def switch_triggers_off(session: Session) -> None:
    """Do what a database owner can: take the append-only triggers away."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))


def relink_without_the_key(session: Session) -> None:
    """Recompute every link after a deletion the only way an attacker can: unkeyed."""
    previous = audit.GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)).all():
        fields = (entry.recorded_at, entry.actor, entry.action, entry.tip_id, entry.detail)
        digest = audit.entry_digest(previous, *fields)
        session.execute(
            text("UPDATE audit_entries SET prev_hash = :p, entry_hash = :h WHERE entry_id = :i"),
            {"p": previous, "h": digest, "i": entry.entry_id},
        )
        previous = digest
    session.commit()


def test_a_deleted_entry_relinked_without_the_key_is_found(keyed: Session, db: Session) -> None:
    record_days(keyed, 5)
    assert audit.first_broken_entry(keyed) is None
    ids = list(keyed.scalars(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id)))
    switch_triggers_off(keyed)
    keyed.execute(text("DELETE FROM audit_entries WHERE entry_id = :id"), {"id": ids[2]})
    keyed.commit()
    relink_without_the_key(keyed)
    keyed.expire_all()
    # Plain SHA-256 (the chain as it was) would call this intact; the key does not.
    assert audit.first_broken_entry(db) is None
    assert audit.first_broken_entry(keyed) == ids[0]


def test_a_truncated_tail_no_longer_holds_the_noted_head(keyed: Session) -> None:
    record_days(keyed, 4)
    noted = audit.head_hash(keyed)
    assert audit.holds_head(keyed, noted)
    switch_triggers_off(keyed)
    newest = keyed.scalar(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id.desc()))
    keyed.execute(text("DELETE FROM audit_entries WHERE entry_id = :id"), {"id": newest})
    keyed.commit()
    assert audit.first_broken_entry(keyed) is None  # what is left still links up...
    assert not audit.holds_head(keyed, noted)  # ...but the head noted off the host is gone


def test_pruning_leaves_an_anchor_the_kept_chain_verifies_from(keyed: Session) -> None:
    clock = record_days(keyed, 40)
    before = audit.entry_count(keyed)
    noted = audit.head_hash(keyed)
    clock.advance(days=1)
    pruned = auditkeep.prune(keyed, 30, clock, "cli")
    # Entries recorded before the first day of the window went; the rest and the head stayed.
    assert pruned == 11
    assert audit.first_broken_entry(keyed) is None
    assert audit.entry_count(keyed) == before + 1  # the prune's own entry; the count goes on
    assert audit.holds_head(keyed, noted)
    anchor = keyed.scalars(select(AuditAnchor)).one()
    assert anchor.entries == 11
    kept = list(keyed.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)))
    assert kept[0].prev_hash == anchor.through_hash and kept[-1].action == "audit.prune"
    assert min(entry.recorded_at.date() for entry in kept) == dt.date(2024, 1, 21)
    # A second prune a day later takes one more day and keeps counting.
    clock.advance(days=1)
    assert auditkeep.prune(keyed, 30, clock, "cli") == 1
    assert audit.entry_count(keyed) == before + 2
    assert audit.first_broken_entry(keyed) is None


def test_only_anchored_entries_may_go_and_anchors_never(keyed: Session) -> None:
    clock = record_days(keyed, 40)
    newest = keyed.scalar(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id.desc()))
    with pytest.raises(DBAPIError):
        keyed.execute(text("DELETE FROM audit_entries WHERE entry_id = :id"), {"id": newest})
    keyed.rollback()
    auditkeep.prune(keyed, 30, clock, "cli")
    for statement in ("UPDATE audit_anchors SET entries = 0", "DELETE FROM audit_anchors"):
        with pytest.raises(DBAPIError):
            keyed.execute(text(statement))
        keyed.rollback()


def test_an_anchor_forged_without_the_key_is_found(keyed: Session) -> None:
    record_days(keyed, 6)
    ids = list(keyed.scalars(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id)))
    through = keyed.get_one(AuditEntry, ids[2])
    digest = audit.anchor_digest(ids[2], through.entry_hash, 3, None)
    keyed.add(
        AuditAnchor(
            through_entry_id=ids[2], through_hash=through.entry_hash, entries=3, anchor_hash=digest
        )
    )
    keyed.flush()
    keyed.execute(text("DELETE FROM audit_entries WHERE entry_id <= :id"), {"id": ids[2]})
    keyed.commit()
    assert audit.first_broken_entry(keyed) == ids[2]


def test_a_broken_chain_is_never_pruned(keyed: Session) -> None:
    clock = record_days(keyed, 40)
    switch_triggers_off(keyed)
    keyed.execute(text("UPDATE audit_entries SET actor = 'x' WHERE tip_id = 3"))
    keyed.commit()
    with pytest.raises(auditkeep.AuditKeepError, match="broken"):
        auditkeep.prune(keyed, 30, clock, "cli")
    assert keyed.scalar(select(AuditAnchor)) is None


def test_a_checkpoint_is_appended_to_a_file_elsewhere(
    keyed: Session, db_url: str, tmp_path: Path
) -> None:
    clock = record_days(keyed, 3)
    target = tmp_path / "other-mount" / "audit-checkpoints.log"
    target.parent.mkdir()
    settings = make_review_settings(db_url, audit_checkpoint_to=f"file:{target}")
    for _ in range(2):
        auditkeep.send_checkpoint(settings, auditkeep.take_checkpoint(keyed, clock))
    lines = target.read_text().splitlines()
    head = audit.head_hash(keyed)
    assert lines == [f"form-service audit checkpoint 2024-01-13 entries=3 head={head}"] * 2
    assert target.stat().st_mode & 0o077 == 0


def test_a_checkpoint_reaches_a_syslog_sink(keyed: Session, db_url: str) -> None:
    clock = record_days(keyed, 2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        sink.settimeout(10)
        port = sink.getsockname()[1]
        settings = make_review_settings(db_url, audit_checkpoint_to=f"syslog://127.0.0.1:{port}")
        auditkeep.send_checkpoint(settings, auditkeep.take_checkpoint(keyed, clock))
        datagram = sink.recv(4096).decode()
    assert f"entries=2 head={audit.head_hash(keyed)}" in datagram


def test_a_checkpoint_is_mailed_through_the_notify_settings(
    keyed: Session, db_url: str, smtp_sink: Sink
) -> None:
    clock = record_days(keyed, 2)
    settings = make_review_settings(
        db_url,
        audit_checkpoint_to="email",
        notify_smtp_host="127.0.0.1",
        notify_smtp_port=smtp_sink.port,
        notify_smtp_tls="none",
        notify_from="desk@example.org",
        notify_recipients=("auditor@example.org",),
    )
    auditkeep.send_checkpoint(settings, auditkeep.take_checkpoint(keyed, clock))
    [delivery] = smtp_sink.deliveries
    assert delivery.recipients == ["auditor@example.org"]
    assert f"head={audit.head_hash(keyed)}" in delivery.message.get_content()
