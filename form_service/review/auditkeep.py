"""Keeping the audit log: retention under an anchor, and checkpoints sent off the host.

Retention: entries older than FORM_SERVICE_AUDIT_RETENTION_DAYS go, but first an anchor
records the hash of the last one going and how many went, sealed with the audit key, so the
kept chain still verifies from there and its length stays known. The newest entry always
stays, and the prune is itself audited.

Checkpoints: the head hash and the count, written where a database owner cannot reach (a
file on another mount, a log sink, an e-mail). `form-service audit verify --expect <head>`
later proves the chain still holds that head, so a truncated or re-linked tail shows.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from form_service import notify
from form_service.clock import Clock
from form_service.models import AuditAnchor, AuditEntry
from form_service.review import audit
from form_service.settings import ReviewSettings

SYSLOG_PORT = 514


class AuditKeepError(RuntimeError):
    """The audit log cannot be pruned or checkpointed; the message says why."""


def prune(session: Session, retention_days: int, clock: Clock, actor: str) -> int:
    """Anchor and delete entries recorded before the retention window; return how many went."""
    if audit.first_broken_entry(session) is not None:
        raise AuditKeepError("the audit chain is broken: refusing to prune the evidence")
    cutoff = datetime.combine(clock.now().date() - timedelta(days=retention_days), time(), UTC)
    audit.lock_chain(session)
    anchor = audit.latest_anchor(session)
    pruned, after = (anchor.entries, anchor.through_entry_id) if anchor else (0, 0)
    newest = session.scalar(select(func.max(AuditEntry.entry_id))) or 0
    old = (AuditEntry.entry_id > after, AuditEntry.entry_id < newest)
    through_id = session.scalar(
        select(func.max(AuditEntry.entry_id)).where(*old, AuditEntry.recorded_at < cutoff)
    )
    if through_id is None:
        session.rollback()
        return 0
    through = session.get_one(AuditEntry, through_id)
    span = AuditEntry.entry_id > after, AuditEntry.entry_id <= through_id
    count = session.scalar(select(func.count()).select_from(AuditEntry).where(*span)) or 0
    key = audit.session_key(session)
    total = pruned + count
    session.add(
        AuditAnchor(
            through_entry_id=through_id,
            through_hash=through.entry_hash,
            entries=total,
            anchor_hash=audit.anchor_digest(through_id, through.entry_hash, total, key),
        )
    )
    session.flush()
    session.execute(delete(AuditEntry).where(AuditEntry.entry_id <= through_id))
    audit.record(session, actor, "audit.prune", clock=clock, entries=count, through=through_id)
    session.commit()
    return count


@dataclass(frozen=True)
class Checkpoint:
    """The chain's state to note elsewhere: how many entries it ever held, and its head."""

    day: str
    entries: int
    head: str

    def line(self) -> str:
        """Return the one line a checkpoint is sent as."""
        return f"form-service audit checkpoint {self.day} entries={self.entries} head={self.head}"


def take_checkpoint(session: Session, clock: Clock) -> Checkpoint:
    """Verify the chain and return its checkpoint; refuse a broken chain."""
    broken = audit.first_broken_entry(session)
    if broken is not None:
        raise AuditKeepError(f"the audit chain is broken at entry {broken}")
    day = clock.now().astimezone(UTC).date().isoformat()
    return Checkpoint(day, audit.entry_count(session), audit.head_hash(session))


def send_checkpoint(settings: ReviewSettings, checkpoint: Checkpoint) -> str:
    """Send the checkpoint through FORM_SERVICE_AUDIT_CHECKPOINT_TO; return where it went."""
    target = settings.audit_checkpoint_to
    if not target:
        raise AuditKeepError(
            "set FORM_SERVICE_AUDIT_CHECKPOINT_TO to send checkpoints off the host"
        )
    if target.startswith("file:"):
        return _append(Path(target.removeprefix("file:")), checkpoint.line())
    if target.startswith("syslog"):
        return _syslog(target, checkpoint.line())
    return _email(settings, checkpoint)


def _append(path: Path, line: str) -> str:
    """Append the line to a file (created owner-only), flushed to its disk."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as error:
        raise AuditKeepError(f"cannot write {path}: {error.strerror}") from None
    try:
        os.write(descriptor, (line + "\n").encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return str(path)


def _syslog(target: str, line: str) -> str:
    """Log the line to the local syslog socket, or to syslog://host:port over UDP."""
    address: str | tuple[str, int] = "/dev/log"
    if target.startswith("syslog://"):
        host, _, port = target.removeprefix("syslog://").partition(":")
        address = (host, int(port or SYSLOG_PORT))
    try:
        handler = logging.handlers.SysLogHandler(
            address=address, facility=logging.handlers.SysLogHandler.LOG_AUTH
        )
    except OSError as error:
        raise AuditKeepError(f"cannot reach syslog at {address}: {error.strerror}") from None
    try:
        handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
    finally:
        handler.close()
    return f"syslog {address}"


def _email(settings: ReviewSettings, checkpoint: Checkpoint) -> str:
    """Mail the line to the notification recipients through the notify SMTP settings."""
    if not settings.notify_smtp_host:
        raise AuditKeepError(
            "AUDIT_CHECKPOINT_TO=email needs the FORM_SERVICE_NOTIFY_SMTP_* settings"
        )

    def message_for(recipient: str) -> EmailMessage:
        """Return the checkpoint message for one recipient."""
        message = EmailMessage()
        message["Subject"] = f"Audit checkpoint {checkpoint.day}"
        message["From"] = settings.notify_from or ""
        message["To"] = recipient
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(checkpoint.line() + "\n")
        return message

    try:
        notify.deliver(settings, message_for)
    except notify.DeliveryError as error:
        raise AuditKeepError(f"the checkpoint mail failed: {error}") from None
    return ", ".join(settings.notify_recipients)
