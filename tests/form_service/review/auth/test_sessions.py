"""Server-side session records end on the idle and absolute timeouts and on disabling.

The records' times are edited in the database; the desk's pages show the effect.
"""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import StaffSession
from form_service.review.auth import accounts
from tests.form_service.factories import make_staff
from tests.form_service.review.helpers import sign_in


def test_idle_and_absolute_timeouts_end_the_session(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    sign_in(review_client, db, account)
    assert review_client.get("/").status_code == 200
    db.execute(update(StaffSession).values(last_seen_at=clock.now() - timedelta(minutes=31)))
    db.commit()
    assert review_client.get("/").status_code == 302
    sign_in(review_client, db, account)
    db.execute(update(StaffSession).values(created_at=clock.now() - timedelta(hours=12, minutes=1)))
    db.commit()
    assert review_client.get("/").status_code == 302


def test_an_active_session_within_limits_survives(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key))
    db.execute(
        update(StaffSession).values(
            last_seen_at=clock.now() - timedelta(minutes=29),
            created_at=clock.now() - timedelta(hours=11),
        )
    )
    db.commit()
    assert review_client.get("/").status_code == 200


def test_disabling_an_account_ends_its_sessions(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    sign_in(review_client, db, account)
    accounts.disable_staff(db, account.email, "test")
    db.commit()
    assert review_client.get("/").status_code == 302
    assert db.scalar(select(StaffSession)) is None
