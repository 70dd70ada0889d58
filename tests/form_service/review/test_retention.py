"""Retention: tips closed past the retention period are purged, and the inbox warns first.

The inbox's warning (inbox.due_for_deletion) is tested here, beside the purge it announces.
"""

from __future__ import annotations

import datetime as dt
import json

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment
from form_service.models import Attachment, AuditEntry, Tip, TipStatus, TipTriage
from form_service.review import retention
from tests.form_service.factories import FIXED_MOMENT, make_staff, make_tip
from tests.form_service.review.helpers import sign_in


def close_tip(db: Session, tip: Tip, closed_on: dt.date) -> None:
    """Mark a tip closed on a given day."""
    tip.status = TipStatus.CLOSED
    db.add(TipTriage(tip_id=tip.tip_id, close_reason="done", closed_on=closed_on))
    db.commit()


def test_purge_deletes_tips_closed_past_retention_with_their_files(
    db: Session, desk_private_key: PrivateKey
) -> None:
    today = dt.date(2026, 6, 1)
    old = make_tip(db, desk_private_key, files=[PlainAttachment(b"x", "text/plain", "a.txt")])
    recent = make_tip(db, desk_private_key)
    open_tip = make_tip(db, desk_private_key)
    close_tip(db, old, today - dt.timedelta(days=365))
    close_tip(db, recent, today - dt.timedelta(days=364))
    assert retention.purge_closed_tips(db, 365, today, "cli") == 1
    remaining = set(db.scalars(select(Tip.tip_id)))
    assert remaining == {recent.tip_id, open_tip.tip_id}
    assert db.scalar(select(Attachment)) is None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
    assert json.loads(entry.detail)["deleted"] == 1


def test_inbox_warns_about_tips_due_for_deletion(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    soon = make_tip(db, desk_private_key)
    later = make_tip(db, desk_private_key)
    today = FIXED_MOMENT.date()
    close_tip(db, soon, today - dt.timedelta(days=365 - 10))
    close_tip(db, later, today - dt.timedelta(days=365 - 20))
    sign_in(review_client, db, make_staff(db, desk_private_key))
    assert "1 closed tip will be deleted within 14 days." in review_client.get("/").get_data(
        as_text=True
    )
