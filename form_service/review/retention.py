"""Retention: closed tips (attachments, notes, follow-ups and history included) go after N days.

After the delete commits, `erase.scrub` makes the rows unreadable on disk too: SQLite's WAL
truncated (secure_delete is on for every connection), PostgreSQL's tables vacuumed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from form_service import erase
from form_service.models import (
    Attachment,
    MessageAttachment,
    Tip,
    TipChange,
    TipLabel,
    TipMessage,
    TipNote,
    TipReplyKey,
    TipStatus,
    TipTriage,
)
from form_service.review import audit

# Children first; explicit, not only ON DELETE CASCADE, so nothing depends on SQLite's
# foreign_keys pragma.
PER_TIP = (Attachment, TipNote, TipLabel, TipChange, TipTriage, TipReplyKey)
PURGED_TABLES = tuple(
    table.__tablename__ for table in (*PER_TIP, MessageAttachment, TipMessage, Tip)
)
LOG = logging.getLogger(__name__)


def purge_closed_tips(
    db: Session,
    retention_days: int,
    today: date,
    actor: str,
    report: Callable[[str], None] = LOG.warning,
) -> int:
    """Delete tips closed at least retention_days ago, commit, erase them from disk, count them.

    `report` is told what the erasure could not do (for example VACUUM without ownership).
    """
    cutoff = today - timedelta(days=retention_days)
    doomed = (
        select(TipTriage.tip_id)
        .join(Tip, Tip.tip_id == TipTriage.tip_id)
        .where(Tip.status == TipStatus.CLOSED, TipTriage.closed_on <= cutoff)
    )
    tip_ids = list(db.scalars(doomed))
    for start in range(0, len(tip_ids), 500):
        chunk = tip_ids[start : start + 500]
        messages = select(TipMessage.message_id).where(TipMessage.tip_id.in_(chunk))
        db.execute(delete(MessageAttachment).where(MessageAttachment.message_id.in_(messages)))
        db.execute(delete(TipMessage).where(TipMessage.tip_id.in_(chunk)))
        for table in PER_TIP:
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
    bind = db.get_bind()
    if tip_ids and isinstance(bind, Engine):
        for note in erase.scrub(bind, PURGED_TABLES):
            report(note)
    return len(tip_ids)
