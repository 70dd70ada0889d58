"""`form-service purge` and `form-service audit verify`: retention and the audit chain."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from form_service.models import AuditEntry
from form_service.review import audit


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
