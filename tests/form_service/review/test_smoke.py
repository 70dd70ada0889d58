"""First end-to-end checks of the desk app: sign in and see the inbox.

A smoke test of the whole desk, so it keeps a behaviour name.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import sign_in


def test_signed_in_reviewer_sees_the_inbox(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    tip = make_tip(db, desk_private_key)
    sign_in(review_client, db, account)
    page = review_client.get("/")
    assert page.status_code == 200, page.get_data(as_text=True)
    # Tip ids are random (models.tips.new_tip_id), never a count from 1.
    assert f"#{tip.tip_id}" in page.get_data(as_text=True)
