"""The inbox: filtered, paged tip lists from clear columns, and a search over opened texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from form_service.models import Staff, Tip, TipLabel, TipMessage, TipStatus, TipTriage
from form_service.review import deadlines
from form_service.review.search import SearchTexts, fields_text, searchable

__all__ = ["fields_text", "searchable"]  # Where reports and tests have always found them.

PAGE_SIZE = 50
WARN_DAYS = 14
# Tips with a follow-up the desk has not opened yet (an index covers this query).
UNREAD_TIP_IDS = select(TipMessage.tip_id).where(TipMessage.seen_by_desk.is_(False)).distinct()


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to; None means no constraint."""

    status: str | None = None
    topic: str | None = None
    language: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    assignee_id: int | None = None  # 0 means "nobody"
    label: str | None = None
    search: str | None = None
    unread: bool = False  # only tips with follow-ups the desk has not read
    deadline: str | None = None  # "overdue", "soon" or "open"
    sort: str | None = None  # "deadline": the next open deadline first; else newest first


@dataclass(frozen=True)
class AsOf:
    """What deadline filters and sorting need: the office's deadlines, today and the dialect."""

    policy: deadlines.Policy
    today: date
    dialect: str


@dataclass
class InboxRow:
    """One line of the inbox, from clear columns only."""

    tip: Tip
    assignee: str | None
    labels: list[str] = field(default_factory=list)
    unread: bool = False
    triage: TipTriage | None = None


@dataclass
class InboxPage:
    """One page of the inbox and how many tips match in all."""

    rows: list[InboxRow]
    total: int
    page: int

    @property
    def pages(self) -> int:
        """Return the number of pages (at least 1)."""
        return max(1, -(-self.total // PAGE_SIZE))


def filtered_tip_ids(flt: InboxFilter, as_of: AsOf | None = None) -> Select[int]:
    """Build the query of matching tip ids, newest first, from indexed clear columns."""
    query = select(Tip.tip_id)
    if flt.status:
        query = query.where(Tip.status == flt.status)
    if flt.topic:
        query = query.where(Tip.topic == flt.topic)
    if flt.language:
        query = query.where(Tip.language == flt.language)
    if flt.received_from:
        query = query.where(Tip.received_on >= flt.received_from)
    if flt.received_to:
        query = query.where(Tip.received_on <= flt.received_to)
    if flt.assignee_id is not None:
        assigned = select(TipTriage.tip_id).where(TipTriage.assignee_id == flt.assignee_id)
        if flt.assignee_id == 0:
            assigned = select(TipTriage.tip_id).where(TipTriage.assignee_id.is_not(None))
            query = query.where(Tip.tip_id.not_in(assigned))
        else:
            query = query.where(Tip.tip_id.in_(assigned))
    if flt.label:
        query = query.where(
            Tip.tip_id.in_(select(TipLabel.tip_id).where(TipLabel.label == flt.label))
        )
    if flt.unread:
        query = query.where(Tip.tip_id.in_(UNREAD_TIP_IDS))
    query = query.order_by(Tip.received_on.desc(), Tip.tip_id.desc())
    if as_of is None:
        return query
    return deadlines.with_deadlines(
        query,
        as_of.dialect,
        as_of.policy,
        as_of.today,
        which=flt.deadline,
        sort=flt.sort == "deadline",
    )


def _rows(db: Session, tip_ids: list[int]) -> list[InboxRow]:
    """Load the inbox lines for these tip ids, keeping their order."""
    if not tip_ids:
        return []
    found = db.execute(
        select(Tip, Staff.email, TipTriage)
        .outerjoin(TipTriage, TipTriage.tip_id == Tip.tip_id)
        .outerjoin(Staff, Staff.staff_id == TipTriage.assignee_id)
        .where(Tip.tip_id.in_(tip_ids))
    )
    rows = {tip.tip_id: InboxRow(tip, email, triage=triage) for tip, email, triage in found}
    for tip_id, label in db.execute(
        select(TipLabel.tip_id, TipLabel.label)
        .where(TipLabel.tip_id.in_(tip_ids))
        .order_by(TipLabel.label)
    ):
        rows[tip_id].labels.append(label)
    for tip_id in db.scalars(UNREAD_TIP_IDS.where(TipMessage.tip_id.in_(tip_ids))):
        rows[tip_id].unread = True
    return [rows[tip_id] for tip_id in tip_ids if tip_id in rows]


def list_page(db: Session, flt: InboxFilter, page: int, as_of: AsOf | None = None) -> InboxPage:
    """Return one page of matching tips without decrypting anything."""
    query = filtered_tip_ids(flt, as_of)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, page)
    tip_ids = list(db.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return InboxPage(_rows(db, tip_ids), total, page)


def search_page(
    db: Session, flt: InboxFilter, page: int, texts: SearchTexts, as_of: AsOf | None = None
) -> InboxPage:
    """Keep the filtered tips whose opened text contains the search term, newest first."""
    needle = searchable(flt.search or "")
    page = max(1, page)
    # Every search first drops the texts of tips erased or purged since the last one.
    texts.forget_all_but(db.scalars(select(Tip.tip_id)))
    matches = texts.matching(db, list(db.scalars(filtered_tip_ids(flt, as_of))), needle)
    start = (page - 1) * PAGE_SIZE
    return InboxPage(_rows(db, matches[start : start + PAGE_SIZE]), len(matches), page)


def status_counts(db: Session) -> dict[TipStatus, int]:
    """Return how many tips have each status (every status listed, zeros included)."""
    grouped = db.execute(select(Tip.status, func.count()).group_by(Tip.status))
    counts = {status: count for status, count in grouped}
    return {status: counts.get(status, 0) for status in TipStatus}


def due_for_deletion(db: Session, retention_days: int, today: date) -> int:
    """Count closed tips that the purge will delete within the next 14 days."""
    cutoff = today - timedelta(days=retention_days) + timedelta(days=WARN_DAYS)
    return (
        db.scalar(
            select(func.count())
            .select_from(TipTriage)
            .join(Tip, Tip.tip_id == TipTriage.tip_id)
            .where(Tip.status == TipStatus.CLOSED, TipTriage.closed_on <= cutoff)
        )
        or 0
    )
