"""Response deadlines: acknowledge a tipster within days, give feedback within months.

Both run from the day a tip was received (EU Directive 2019/1937, Article 9: seven days
and three months by default, FORM_SERVICE_ACKNOWLEDGE_DAYS / _FEEDBACK_MONTHS). A reply to
the tipster acknowledges; closing the tip, or a reply after the acknowledgement, is
feedback (closing meets both: a closed tip needs no reminder). Days only: no time of day
is kept.

The days a deadline was met live on the tip's triage row (`acknowledged_on`,
`fed_back_on`), so the inbox filters and sorts by them in SQL.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from form_service.models import Tip, TipStatus, TipTriage
from form_service.settings import ReviewSettings

SOON_DAYS = 7


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, or the month's last day if it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Policy:
    """How long the desk has for each answer."""

    acknowledge_days: int = 7
    feedback_months: int = 3

    @classmethod
    def from_settings(cls, settings: ReviewSettings) -> Policy:
        """Read the deadlines the office configured."""
        return cls(settings.acknowledge_days, settings.feedback_months)

    def acknowledge_by(self, received_on: date) -> date:
        """Return the last day to acknowledge a tip received on a day."""
        return received_on + timedelta(days=self.acknowledge_days)

    def feedback_by(self, received_on: date) -> date:
        """Return the last day to give feedback on a tip received on a day."""
        return add_months(received_on, self.feedback_months)

    def feedback_cutoff(self, today: date) -> date:
        """Return the first received day whose feedback is due today or later."""
        day = add_months(today, -self.feedback_months)
        while self.feedback_by(day - timedelta(days=1)) >= today:
            day -= timedelta(days=1)
        while self.feedback_by(day) < today:
            day += timedelta(days=1)
        return day


class Standing(StrEnum):
    """Where one deadline stands today."""

    MET = "met"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Deadline:
    """One deadline of one tip: when it falls and when it was met."""

    due_on: date
    met_on: date | None

    def standing(self, today: date) -> Standing:
        """Tell whether the deadline was met, is still running, or has passed."""
        if self.met_on is not None:
            return Standing.MET
        return Standing.OVERDUE if today > self.due_on else Standing.DUE

    def days_left(self, today: date) -> int:
        """Return the days until the deadline (negative once it has passed)."""
        return (self.due_on - today).days


@dataclass(frozen=True)
class TipDeadlines:
    """Both deadlines of a tip."""

    acknowledgement: Deadline
    feedback: Deadline

    def next_open(self) -> tuple[str, Deadline] | None:
        """Return the earliest deadline not met yet, with its kind, or None."""
        for kind, deadline in (
            ("acknowledgement", self.acknowledgement),
            ("feedback", self.feedback),
        ):
            if deadline.met_on is None:
                return kind, deadline
        return None


def of(tip: Tip, triage: TipTriage | None, policy: Policy) -> TipDeadlines:
    """Return a tip's two deadlines and whether each was met."""
    acknowledged = triage.acknowledged_on if triage else None
    fed_back = triage.fed_back_on if triage else None
    return TipDeadlines(
        Deadline(policy.acknowledge_by(tip.received_on), acknowledged),
        Deadline(policy.feedback_by(tip.received_on), fed_back),
    )


def on_status_change(triage: TipTriage, new: TipStatus, today: date) -> None:
    """Meet the deadlines a status change meets: closing meets both, others none."""
    if new == TipStatus.CLOSED:
        triage.acknowledged_on = triage.acknowledged_on or today
        triage.fed_back_on = triage.fed_back_on or today


def on_reply_to_tipster(triage: TipTriage, today: date) -> None:
    """Meet a deadline with a reply: the first acknowledges, a later one is feedback.

    `replies.send_reply` calls it with the tip's triage row, in the reply's transaction.
    """
    if triage.acknowledged_on is None:
        triage.acknowledged_on = today
    elif triage.fed_back_on is None:
        triage.fed_back_on = today


def _acknowledge_open() -> ColumnElement[bool]:
    """Select tips neither acknowledged nor given feedback (triage row or not)."""
    return and_(TipTriage.acknowledged_on.is_(None), TipTriage.fed_back_on.is_(None))


def overdue_clause(policy: Policy, today: date) -> ColumnElement[bool]:
    """Select tips with a deadline that has passed."""
    late_ack = and_(
        _acknowledge_open(), Tip.received_on < today - timedelta(policy.acknowledge_days)
    )
    late_feedback = and_(
        TipTriage.fed_back_on.is_(None), Tip.received_on < policy.feedback_cutoff(today)
    )
    return or_(late_ack, late_feedback)


def due_soon_clause(policy: Policy, today: date) -> ColumnElement[bool]:
    """Select tips whose next open deadline falls within the next SOON_DAYS days."""
    soon = today + timedelta(days=SOON_DAYS)
    ack_window = Tip.received_on.between(
        today - timedelta(policy.acknowledge_days), soon - timedelta(policy.acknowledge_days)
    )
    feedback_window = and_(
        Tip.received_on >= policy.feedback_cutoff(today),
        Tip.received_on < policy.feedback_cutoff(soon + timedelta(days=1)),
    )
    return or_(
        and_(_acknowledge_open(), ack_window),
        and_(
            TipTriage.acknowledged_on.is_not(None),
            TipTriage.fed_back_on.is_(None),
            feedback_window,
        ),
    )


def _plus(dialect: str, days: int = 0, months: int = 0) -> ColumnElement[date]:
    """Return received_on moved by days or months in SQL, months clamped like add_months."""
    if dialect == "postgresql":
        # PostgreSQL's date + interval '1 month' already ends on the month's last day.
        interval = func.make_interval(0, months, 0, days)
        return func.date(Tip.received_on + interval)
    if days:
        return func.date(Tip.received_on, f"+{days} days")
    # SQLite rolls 31 January + 1 month over into March; the month's last day caps it.
    naive = func.date(Tip.received_on, f"+{months} months")
    last = func.date(Tip.received_on, "start of month", f"+{months + 1} months", "-1 day")
    return func.min(naive, last)


def with_deadlines(
    query: Select[int],
    dialect: str,
    policy: Policy,
    today: date,
    *,
    which: str | None,
    sort: bool,
) -> Select[int]:
    """Narrow a tip-id query to overdue/soon/open tips, or order it by the next deadline."""
    if not which and not sort:
        return query
    query = query.outerjoin(TipTriage, TipTriage.tip_id == Tip.tip_id)
    if which == "overdue":
        query = query.where(overdue_clause(policy, today))
    elif which == "soon":
        query = query.where(due_soon_clause(policy, today))
    elif which == "open":
        query = query.where(TipTriage.fed_back_on.is_(None))
    if sort:
        next_due = case(
            (_acknowledge_open(), _plus(dialect, days=policy.acknowledge_days)),
            (TipTriage.fed_back_on.is_(None), _plus(dialect, months=policy.feedback_months)),
            else_=literal(None),
        )
        done = case((TipTriage.fed_back_on.is_(None), 0), else_=1)
        query = query.order_by(None).order_by(done, next_due, Tip.tip_id)
    return query


@dataclass(frozen=True)
class DeadlineCounts:
    """How many tips are overdue or due soon, per kind of deadline (for the dashboard)."""

    acknowledge_overdue: int
    acknowledge_soon: int
    feedback_overdue: int
    feedback_soon: int


def counts(db: Session, policy: Policy, today: date) -> DeadlineCounts:
    """Count overdue and soon-due acknowledgements and feedback."""
    soon = today + timedelta(days=SOON_DAYS)
    ack_open, feedback_open = _acknowledge_open(), TipTriage.fed_back_on.is_(None)
    ack_due, ack_soon = (
        today - timedelta(policy.acknowledge_days),
        soon - timedelta(policy.acknowledge_days),
    )
    fb_due, fb_soon = policy.feedback_cutoff(today), policy.feedback_cutoff(soon + timedelta(1))

    def count(*conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(Tip)
        query = query.outerjoin(TipTriage, TipTriage.tip_id == Tip.tip_id)
        return db.scalar(query.where(*conditions)) or 0

    return DeadlineCounts(
        acknowledge_overdue=count(ack_open, Tip.received_on < ack_due),
        acknowledge_soon=count(ack_open, Tip.received_on.between(ack_due, ack_soon)),
        feedback_overdue=count(feedback_open, Tip.received_on < fb_due),
        feedback_soon=count(feedback_open, Tip.received_on >= fb_due, Tip.received_on < fb_soon),
    )
