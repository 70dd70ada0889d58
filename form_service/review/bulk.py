"""Bulk triage: one change (assignee, label or status) on several tips at once.

Each tip goes through the same workflow function as on its own page, so each change is
kept in that tip's history and audited per tip. All or nothing: one refusal rolls the
whole request back. At most MAX_TIPS per request, so one post cannot tie up the desk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import Staff, Tip, TipStatus
from form_service.review import workflow

MAX_TIPS = 100


class BulkError(ValueError):
    """The request was refused; nothing was changed."""


@dataclass(frozen=True)
class BulkChange:
    """What to do to every selected tip: exactly one of the three."""

    assignee: Staff | None = None
    unassign: bool = False
    label: str | None = None
    status: TipStatus | None = None
    reason: str = ""


def selected_tips(db: Session, tip_ids: Iterable[int]) -> list[Tip]:
    """Load the selected tips that exist, in tip order, refusing more than MAX_TIPS."""
    wanted = sorted(set(tip_ids))
    if not wanted:
        raise BulkError("no tips selected")
    if len(wanted) > MAX_TIPS:
        raise BulkError("too many tips selected")
    return list(db.scalars(select(Tip).where(Tip.tip_id.in_(wanted)).order_by(Tip.tip_id)))


def apply(db: Session, staff: Staff, tips: list[Tip], change: BulkChange, today: date) -> int:
    """Make one change on each tip in the caller's transaction; return how many tips."""
    for tip in tips:
        if change.status is not None:
            workflow.change_status(db, tip, staff, change.status, change.reason, today)
        elif change.label is not None:
            workflow.add_label(db, tip, staff, change.label)
        elif change.assignee is not None or change.unassign:
            workflow.assign(db, tip, staff, change.assignee)
        else:
            raise BulkError("no change chosen")
    return len(tips)
