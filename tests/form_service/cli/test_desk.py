"""`form-service purge` and `form-service audit ...`: retention and the keyed audit chain."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from form_service.cli import cli
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


def keyed_env(tmp_path: Path) -> dict[str, str]:
    """Return the variables that give the commands an audit key and a checkpoint file."""
    key = tmp_path / "audit-key"
    key.write_text("audit-key-for-the-cli-" + "k" * 32)
    target = tmp_path / "checkpoints.log"
    return {
        "FORM_SERVICE_AUDIT_KEY_FILE": str(key),
        "FORM_SERVICE_AUDIT_CHECKPOINT_TO": f"file:{target}",
    }


def test_verify_expect_fails_once_the_noted_head_is_gone(
    run: object, db: Session, tmp_path: Path
) -> None:
    env = keyed_env(tmp_path)
    for _ in range(3):
        assert run("purge", extra_env=env).exit_code == 0  # type: ignore[operator]
    checkpoint = run("audit", "checkpoint", extra_env=env)  # type: ignore[operator]
    assert checkpoint.exit_code == 0, checkpoint.output
    line = (tmp_path / "checkpoints.log").read_text().strip()
    head = line.rsplit("head=", 1)[1]
    assert "entries=3" in line
    ok = run("audit", "verify", "--expect", head, extra_env=env)  # type: ignore[operator]
    assert ok.exit_code == 0 and f"Entries: 3. Head: {head}" in ok.output
    newest = db.scalar(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id.desc()))
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_delete"))
    db.execute(text("DELETE FROM audit_entries WHERE entry_id = :id"), {"id": newest})
    db.commit()
    assert run("audit", "verify", extra_env=env).exit_code == 0  # type: ignore[operator]
    gone = run("audit", "verify", "--expect", head, extra_env=env)  # type: ignore[operator]
    assert gone.exit_code == 1 and "no longer holds the expected head" in gone.output


def test_entries_written_without_the_key_fail_a_keyed_verify(
    run: object, db: Session, tmp_path: Path
) -> None:
    audit.record(db, "x@example.org", "tip.view", 1)
    db.commit()
    assert run("audit", "verify").exit_code == 0  # type: ignore[operator]
    assert run("audit", "verify", extra_env=keyed_env(tmp_path)).exit_code == 1  # type: ignore[operator]


def test_audit_prune_keeps_the_chain_verifiable(run: object, tmp_path: Path) -> None:
    env = keyed_env(tmp_path)
    assert run("purge", extra_env=env).exit_code == 0  # type: ignore[operator]
    pruned = run("audit", "prune", extra_env=env)  # type: ignore[operator]
    assert pruned.exit_code == 0 and "Pruned 0 audit entries older than 730 days" in pruned.output
    assert run("audit", "verify", extra_env=env).exit_code == 0  # type: ignore[operator]


def test_keys_audit_key_writes_an_owner_only_key_once(tmp_path: Path) -> None:
    target = tmp_path / "audit-key"
    first = CliRunner().invoke(cli, ["keys", "audit-key", "--file", str(target)])
    assert first.exit_code == 0 and len(target.read_bytes()) >= 32
    assert target.stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(cli, ["keys", "audit-key", "--file", str(target)])
    assert again.exit_code == 1 and "refusing to overwrite" in again.output
