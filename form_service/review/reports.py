"""Figures for the dashboard and rows for exports."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from form_service.models import Staff, Tip, TipLabel, TipTriage
from form_service.review import chart
from form_service.review.inbox import AsOf, InboxFilter, fields_text, filtered_tip_ids, searchable
from form_service.review.tipview import opener


def weekly_counts(db: Session, today: date, weeks: int = 12) -> list[tuple[date, int]]:
    """Count tips received in each of the last `weeks` weeks (Monday to Sunday)."""
    starts = chart.week_starts(today, weeks)
    per_day = db.execute(
        select(Tip.received_on, func.count())
        .where(Tip.received_on >= starts[0])
        .group_by(Tip.received_on)
    )
    per_week: Counter[date] = Counter()
    for day, count in per_day:
        per_week[day - timedelta(days=day.weekday())] += count
    return [(start, per_week.get(start, 0)) for start in starts]


def export_rows(
    db: Session, flt: InboxFilter, private_key: PrivateKey, as_of: AsOf | None = None
) -> list[dict[str, Any]]:
    """Return the selected tips, decrypted, one flat dict each (for CSV or JSON)."""
    open_fields = opener(private_key)
    needle = searchable(flt.search) if flt.search else None
    tip_ids = list(db.scalars(filtered_tip_ids(flt, as_of)))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(tip_ids), 500):
        chunk = tip_ids[start : start + 500]
        found = db.execute(
            select(Tip, Staff.email)
            .outerjoin(TipTriage, TipTriage.tip_id == Tip.tip_id)
            .outerjoin(Staff, Staff.staff_id == TipTriage.assignee_id)
            .where(Tip.tip_id.in_(chunk))
        )
        by_id = {tip.tip_id: (tip, email) for tip, email in found}
        labels: dict[int, list[str]] = {}
        for labelled_id, label in db.execute(
            select(TipLabel.tip_id, TipLabel.label)
            .where(TipLabel.tip_id.in_(chunk))
            .order_by(TipLabel.label)
        ):
            labels.setdefault(labelled_id, []).append(label)
        for tip_id in chunk:
            tip, email = by_id[tip_id]
            fields = open_fields(tip)
            if needle and needle not in searchable(fields_text(fields)):
                continue
            rows.append(
                {
                    "tip_id": tip.tip_id,
                    "received_on": tip.received_on.isoformat(),
                    "language": tip.language,
                    "topic": str(tip.topic),
                    "status": str(tip.status),
                    "assignee": email or "",
                    "labels": labels.get(tip_id, []),
                    **fields,
                }
            )
        for tip, _email in by_id.values():
            db.expunge(tip)  # Bound memory to one batch of decrypted-on-demand tips.
    return rows
