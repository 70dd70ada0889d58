"""Requests the desk's pages do not expect get a plain answer, never a 500.

Numbers too big for the database, a date at the end of the calendar, NUL in a label or a
close reason (PostgreSQL refuses NUL), and a tip that decrypts into something unexpected.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from nacl.secret import SecretBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.crypto import open_tip_key
from form_service.models import AuditEntry, StaffRole, Tip, TipLabel, TipStatus, TipTriage
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import csrf_token, sign_in

HUGE = "1" * 25


def as_admin(client: FlaskClient, db: Session, key: PrivateKey) -> None:
    """Sign in a fresh admin."""
    sign_in(client, db, make_staff(db, key, "admin@example.org", StaffRole.ADMIN))


@pytest.mark.parametrize(
    "path",
    [
        f"/tips/{HUGE}",
        f"/tips/1/attachments/{HUGE}",
        f"/?page={HUGE}",
        f"/?page={HUGE}&search=x",
        f"/audit?page={HUGE}",
    ],
)
def test_numbers_beyond_the_database_are_not_found(
    path: str, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    make_tip(db, desk_private_key)
    as_admin(review_client, db, desk_private_key)
    assert review_client.get(path).status_code == 404


@pytest.mark.parametrize("query", [f"tip_id={HUGE}", "recorded_to=9999-12-31", "actor=a%00b"])
def test_odd_audit_filters_answer_with_a_page(
    query: str, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    as_admin(review_client, db, desk_private_key)
    assert review_client.get(f"/audit?{query}").status_code == 200


def test_the_last_day_of_the_calendar_keeps_every_entry(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    as_admin(review_client, db, desk_private_key)
    page = review_client.get("/audit?recorded_to=9999-12-31").get_data(as_text=True)
    assert "sign_in.success" in page


def test_nul_in_a_label_or_a_close_reason_is_refused_with_a_reason(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    sign_in(review_client, db, make_staff(db, desk_private_key))
    url = f"/tips/{tip.tip_id}"
    token = csrf_token(review_client, url)
    for path, data in [
        (f"{url}/labels", {"label": "bad\x00label"}),
        (f"{url}/labels/remove", {"label": "bad\x00label"}),
        (f"{url}/status", {"status": "closed", "reason": "dup\x00licate"}),
    ]:
        response = review_client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 302, path
        page = review_client.get(url).get_data(as_text=True)
        assert "Remove the control characters" in page, path
    assert review_client.get("/?label=a%00b").status_code == 200
    db.expire_all()
    assert db.scalar(select(TipLabel)) is None
    assert db.get(Tip, tip.tip_id).status == TipStatus.NEW  # type: ignore[union-attr]
    assert db.scalar(select(TipTriage.close_reason)) is None


def test_nul_in_the_sign_in_address_is_a_plain_refusal(review_client: FlaskClient) -> None:
    token = csrf_token(review_client, "/sign-in")
    response = review_client.post(
        "/sign-in", data={"csrf_token": token, "email": "a\x00@example.org", "password": "x" * 16}
    )
    assert response.status_code == 200
    assert "Remove the control characters" in response.get_data(as_text=True)


def reseal(db: Session, key: PrivateKey, tip: Tip, document: object) -> None:
    """Replace a tip's ciphertext with another JSON document under the same tip key."""
    box = SecretBox(open_tip_key(key, tip.sealed_key))
    tip.ciphertext = bytes(box.encrypt(json.dumps(document).encode("utf-8")))
    db.commit()


@pytest.mark.parametrize(
    "document",
    [
        [1, 2, 3],
        {"version": 1, "fields": ["not", "a", "mapping"]},
        {"version": 1, "fields": {"message": {"nested": "needle"}}},
        {"version": 99, "fields": {"message": "needle"}},
        {"fields": {"message": "needle"}},
        "needle",
    ],
)
def test_a_tip_that_opens_into_an_unexpected_shape_never_breaks_a_search(
    document: object, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    odd = make_tip(db, desk_private_key, fields={"message": "needle"})
    reseal(db, desk_private_key, odd, document)
    fine = make_tip(db, desk_private_key, fields={"message": "a needle in the hay"})
    as_admin(review_client, db, desk_private_key)
    page = review_client.get("/?search=needle")
    assert page.status_code == 200
    assert f'href="/tips/{fine.tip_id}"' in page.get_data(as_text=True)
    assert review_client.get(f"/tips/{odd.tip_id}").status_code == 200
    token = csrf_token(review_client, "/")
    exported = review_client.post(
        "/export", data={"csrf_token": token, "file_format": "json", "search": "needle"}
    )
    assert exported.status_code == 200
    assert [row["tip_id"] for row in json.loads(exported.data)] == [str(fine.tip_id)]


def test_a_reviewer_cannot_open_the_dashboard(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key))
    assert review_client.get("/dashboard").status_code == 403
    assert 'href="/dashboard"' not in review_client.get("/").get_data(as_text=True)
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "export")) is None
