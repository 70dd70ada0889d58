"""Working a tip: status, assignment, labels and sealed notes, each kept in its history."""

from __future__ import annotations

from datetime import date

from nacl.public import PrivateKey, PublicKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from form_service.crypto import open_tip, seal_tip
from form_service.models import (
    Staff,
    Tip,
    TipChange,
    TipChangeKind,
    TipLabel,
    TipNote,
    TipStatus,
    TipTriage,
)
from form_service.review import audit, deadlines

MAX_LABEL = 64


class WorkflowError(ValueError):
    """Raised when a change on a tip is refused (the message is shown to staff)."""


def triage_of(db: Session, tip_id: int) -> TipTriage:
    """Return the tip's triage record, creating an empty one on first use."""
    triage = db.get(TipTriage, tip_id)
    if triage is None:
        triage = TipTriage(tip_id=tip_id)
        db.add(triage)
    return triage


def _log(db: Session, tip_id: int, staff: Staff, kind: TipChangeKind, detail: str) -> None:
    """Add one entry to the tip's history."""
    db.add(TipChange(tip_id=tip_id, staff_id=staff.staff_id, kind=kind, detail=detail))


def change_status(
    db: Session, tip: Tip, staff: Staff, status: TipStatus, reason: str, today: date
) -> None:
    """Move a tip to a status; closing needs a reason and starts the retention clock."""
    old = TipStatus(tip.status)
    if status == old:
        return
    triage = triage_of(db, tip.tip_id)
    if status == TipStatus.CLOSED:
        if not reason.strip():
            raise WorkflowError("Give a reason for closing the tip.")
        triage.close_reason, triage.closed_on = reason.strip(), today
    else:
        triage.close_reason, triage.closed_on = None, None
    deadlines.on_status_change(triage, status, today)
    tip.status = status
    _log(db, tip.tip_id, staff, TipChangeKind.STATUS, f"{old} → {status}")
    audit.record(db, staff.email, "tip.status", tip.tip_id, old=str(old), new=str(status))


def assign(db: Session, tip: Tip, staff: Staff, assignee: Staff | None) -> None:
    """Assign a tip to a staff member, or to nobody."""
    triage = triage_of(db, tip.tip_id)
    triage.assignee_id = assignee.staff_id if assignee else None
    name = assignee.email if assignee else "-"
    _log(db, tip.tip_id, staff, TipChangeKind.ASSIGNEE, name)
    audit.record(db, staff.email, "tip.assign", tip.tip_id, assignee=name)


def add_label(db: Session, tip: Tip, staff: Staff, label: str) -> None:
    """Put a free label on a tip (trimmed; at most 64 characters)."""
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL:
        raise WorkflowError(f"A label has 1 to {MAX_LABEL} characters.")
    if db.get(TipLabel, (tip.tip_id, label)) is None:
        db.add(TipLabel(tip_id=tip.tip_id, label=label))
        _log(db, tip.tip_id, staff, TipChangeKind.LABEL_ADDED, label)
        audit.record(db, staff.email, "tip.label", tip.tip_id, change="added")


def remove_label(db: Session, tip: Tip, staff: Staff, label: str) -> None:
    """Take a label off a tip."""
    result = db.execute(
        delete(TipLabel).where(TipLabel.tip_id == tip.tip_id, TipLabel.label == label)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        _log(db, tip.tip_id, staff, TipChangeKind.LABEL_REMOVED, label)
        audit.record(db, staff.email, "tip.label", tip.tip_id, change="removed")


def add_note(db: Session, tip: Tip, staff: Staff, public_key: PublicKey, text: str) -> None:
    """Seal an internal note to the desk key and attach it to the tip."""
    if not text.strip():
        raise WorkflowError("Write the note first.")
    sealed = seal_tip(public_key, {"note": text}, ())
    db.add(
        TipNote(
            tip_id=tip.tip_id,
            author_id=staff.staff_id,
            sealed_key=sealed.sealed_key,
            ciphertext=sealed.ciphertext,
        )
    )
    _log(db, tip.tip_id, staff, TipChangeKind.NOTE, "")
    audit.record(db, staff.email, "tip.note", tip.tip_id)


def labels_of(db: Session, tip_id: int) -> list[str]:
    """Return a tip's labels in alphabetical order."""
    return list(
        db.scalars(select(TipLabel.label).where(TipLabel.tip_id == tip_id).order_by(TipLabel.label))
    )


def notes_of(db: Session, tip_id: int, private_key: PrivateKey) -> list[tuple[TipNote, str]]:
    """Return a tip's notes, oldest first, each with its opened text."""
    notes = db.scalars(select(TipNote).where(TipNote.tip_id == tip_id).order_by(TipNote.note_id))
    return [
        (note, str(open_tip(private_key, note.sealed_key, note.ciphertext)["note"]))
        for note in notes
    ]


def history_of(db: Session, tip_id: int) -> list[tuple[TipChange, str]]:
    """Return a tip's changes, oldest first, each with the address of who made it."""
    rows = db.execute(
        select(TipChange, Staff.email)
        .outerjoin(Staff, Staff.staff_id == TipChange.staff_id)
        .where(TipChange.tip_id == tip_id)
        .order_by(TipChange.change_id)
    )
    return [(change, email or "-") for change, email in rows]
