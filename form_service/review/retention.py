"""Retention: closed tips (attachments, notes and history included) go after N days."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from form_service.models import Attachment, Tip, TipChange, TipLabel, TipNote, TipStatus, TipTriage
from form_service.review import audit


def purge_closed_tips(db: Session, retention_days: int, today: date, actor: str) -> int:
    """Delete tips closed at least retention_days ago, record the count, and commit."""
    cutoff = today - timedelta(days=retention_days)
    doomed = (
        select(TipTriage.tip_id)
        .join(Tip, Tip.tip_id == TipTriage.tip_id)
        .where(Tip.status == TipStatus.CLOSED, TipTriage.closed_on <= cutoff)
    )
    tip_ids = list(db.scalars(doomed))
    for start in range(0, len(tip_ids), 500):
        chunk = tip_ids[start : start + 500]
        # Explicit, not only ON DELETE CASCADE, so nothing depends on SQLite's foreign_keys pragma.
        for table in (Attachment, TipNote, TipLabel, TipChange, TipTriage):
            db.execute(delete(table).where(table.tip_id.in_(chunk)))
        db.execute(delete(Tip).where(Tip.tip_id.in_(chunk)))
    audit.record(
        db,
        actor,
        "purge",
        deleted=len(tip_ids),
        retention_days=retention_days,
        cutoff=cutoff.isoformat(),
    )
    db.commit()
    return len(tip_ids)
