"""Acknowledgement and feedback deadlines: the day arithmetic, SQL against Python, the pages."""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.frame import STATE_KEY
from form_service.models import Staff, StaffRole, Tip, TipReplyKey, TipStatus, TipTriage
from form_service.replykeys import new_reply_key
from form_service.review import deadlines, replies, workflow
from form_service.review.inbox import AsOf, InboxFilter, filtered_tip_ids
from tests.form_service.factories import FIXED_MOMENT, make_staff, make_tip
from tests.form_service.review.helpers import sign_in

POLICY = deadlines.Policy(acknowledge_days=7, feedback_months=3)
TODAY = dt.date(2026, 5, 31)


def test_months_end_on_the_last_day_when_the_day_is_missing() -> None:
    assert deadlines.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert deadlines.add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert deadlines.add_months(dt.date(2026, 12, 15), 3) == dt.date(2027, 3, 15)
    assert deadlines.add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)


def test_the_feedback_cutoff_splits_received_days_exactly() -> None:
    for offset in range(400):
        today = dt.date(2024, 1, 1) + dt.timedelta(days=offset)
        cutoff = POLICY.feedback_cutoff(today)
        assert POLICY.feedback_by(cutoff) >= today
        assert POLICY.feedback_by(cutoff - dt.timedelta(days=1)) < today


def test_a_reply_acknowledges_a_later_one_or_closing_gives_feedback() -> None:
    triage = TipTriage(tip_id=1)
    deadlines.on_status_change(triage, TipStatus.TRIAGED, TODAY)
    assert (triage.acknowledged_on, triage.fed_back_on) == (None, None)
    later = TODAY + dt.timedelta(days=3)
    deadlines.on_status_change(triage, TipStatus.CLOSED, later)
    assert (triage.acknowledged_on, triage.fed_back_on) == (later, later)
    replied = TipTriage(tip_id=2)
    deadlines.on_reply_to_tipster(replied, TODAY)
    assert (replied.acknowledged_on, replied.fed_back_on) == (TODAY, None)
    deadlines.on_reply_to_tipster(replied, later)
    assert (replied.acknowledged_on, replied.fed_back_on) == (TODAY, later)


def _tips_in_every_state(db: Session, key: PrivateKey) -> list[Tip]:
    """Store tips received on awkward days (month ends), some acknowledged or answered."""
    received = [0, 3, 7, 8, 20, 85, 89, 90, 91, 92, 120, 200]
    tips = []
    for number, days in enumerate(received):
        tip = make_tip(db, key, received_on=TODAY - dt.timedelta(days=days))
        if number % 3:
            triage = workflow.triage_of(db, tip.tip_id)
            triage.acknowledged_on = tip.received_on + dt.timedelta(days=1)
            if number % 3 == 2 and days > 100:
                triage.fed_back_on = TODAY
        tips.append(tip)
    db.commit()
    return tips


def _expected(db: Session, tips: list[Tip]) -> dict[int, deadlines.TipDeadlines]:
    """Compute every tip's deadlines in Python."""
    return {tip.tip_id: deadlines.of(tip, db.get(TipTriage, tip.tip_id), POLICY) for tip in tips}


def test_sql_filters_and_order_agree_with_the_python_deadlines(
    db: Session, desk_private_key: PrivateKey
) -> None:
    tips = _tips_in_every_state(db, desk_private_key)
    expected = _expected(db, tips)
    as_of = AsOf(POLICY, TODAY, db.get_bind().dialect.name)

    def ids(**choice: str) -> list[int]:
        return list(db.scalars(filtered_tip_ids(InboxFilter(**choice), as_of)))

    def next_due(tip_id: int) -> deadlines.Deadline | None:
        found = expected[tip_id].next_open()
        return found[1] if found else None

    overdue = {
        tip_id
        for tip_id, both in expected.items()
        if deadlines.Standing.OVERDUE
        in (both.acknowledgement.standing(TODAY), both.feedback.standing(TODAY))
    }
    assert set(ids(deadline="overdue")) == overdue and overdue
    soon = {
        tip_id
        for tip_id in expected
        if (due := next_due(tip_id)) is not None and 0 <= due.days_left(TODAY) <= 7
    }
    assert set(ids(deadline="soon")) == soon and soon
    assert set(ids(deadline="open")) == {
        tip_id for tip_id, both in expected.items() if both.feedback.met_on is None
    }
    order = sorted(
        expected,
        key=lambda tip_id: (
            next_due(tip_id) is None,
            (due.due_on if (due := next_due(tip_id)) else dt.date.max),
            tip_id,
        ),
    )
    assert ids(sort="deadline") == order
    counted = deadlines.counts(db, POLICY, TODAY)
    assert counted.acknowledge_overdue == sum(
        1
        for both in expected.values()
        if both.acknowledgement.standing(TODAY) == "overdue" and both.feedback.met_on is None
    )
    assert counted.feedback_overdue == sum(
        1 for both in expected.values() if both.feedback.standing(TODAY) == "overdue"
    )


def _fix_clock(app: Flask, moment: dt.datetime) -> None:
    """Make the desk read a fixed clock (its state is frozen, so replace it)."""
    state = app.extensions[STATE_KEY]
    app.extensions[STATE_KEY] = dataclasses.replace(state, clock=FixedClock(moment))


def test_the_pages_flag_overdue_tips_and_say_how_long_is_left(
    review_app: Flask, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    now = FIXED_MOMENT  # the moment the sign-in's clock (and itsdangerous) stands at
    _fix_clock(review_app, now)
    today = now.date()
    late = make_tip(db, desk_private_key, received_on=today - dt.timedelta(days=9))
    fresh = make_tip(db, desk_private_key, received_on=today - dt.timedelta(days=2))
    sign_in(
        review_client, db, make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    )
    inbox = review_client.get("/?deadline=overdue").get_data(as_text=True)
    assert f'href="/tips/{late.tip_id}"' in inbox and f'href="/tips/{fresh.tip_id}"' not in inbox
    assert "overdue by 2 days" in inbox
    ordered = review_client.get("/?sort=deadline").get_data(as_text=True)
    assert ordered.index(f'/tips/{late.tip_id}"') < ordered.index(f'/tips/{fresh.tip_id}"')
    page = review_client.get(f"/tips/{fresh.tip_id}").get_data(as_text=True)
    assert "5 days left" in page
    dashboard = review_client.get("/dashboard").get_data(as_text=True)
    assert "Response deadlines" in dashboard
    assert 'sort=deadline">1</a>' in dashboard
    assert db.scalar(select(TipTriage).where(TipTriage.tip_id == late.tip_id)) is None


def test_sending_replies_meets_the_acknowledgement_then_the_feedback(
    db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key, received_on=TODAY - dt.timedelta(days=3))
    reply_key = new_reply_key("1" * 25)
    db.add(TipReplyKey(tip_id=tip.tip_id, salt=reply_key.salt, public_key=reply_key.public_key))
    account = make_staff(db, desk_private_key)
    staff = db.get(Staff, account.staff_id)
    assert staff is not None
    replies.send_reply(db, tip, staff, desk_private_key, "We have your message.", TODAY)
    db.commit()
    first = deadlines.of(tip, db.get(TipTriage, tip.tip_id), POLICY)
    assert first.acknowledgement.met_on == TODAY and first.feedback.met_on is None
    later = TODAY + dt.timedelta(days=20)
    replies.send_reply(db, tip, staff, desk_private_key, "It went to the investigators.", later)
    db.commit()
    db.expire_all()
    both = deadlines.of(tip, db.get(TipTriage, tip.tip_id), POLICY)
    assert (both.acknowledgement.met_on, both.feedback.met_on) == (TODAY, later)
