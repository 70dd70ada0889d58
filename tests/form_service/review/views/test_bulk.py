"""Bulk triage from the inbox: ticked tips, one change each, audited per tip, all or nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import AuditEntry, StaffRole, Tip, TipLabel, TipStatus, TipTriage
from form_service.review import bulk
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import csrf_token, sign_in


def _post(client: FlaskClient, tip_ids: list[int], action: str, **fields: str) -> str:
    """Tick tips in the inbox and press one of the bulk buttons; return the inbox shown."""
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/"),
        "tip_id": [str(tip_id) for tip_id in tip_ids],
        "bulk-action": action,
        **{f"bulk-{name}": value for name, value in fields.items()},
    }
    response = client.post("/tips/bulk", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_inbox_offers_a_checkbox_per_tip_and_the_bulk_form(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tips = [make_tip(db, desk_private_key) for _ in range(3)]
    sign_in(review_client, db, make_staff(db, desk_private_key))
    page = review_client.get("/").get_data(as_text=True)
    for tip in tips:
        assert f'name="tip_id" value="{tip.tip_id}"' in page
    assert 'action="/tips/bulk"' in page and "At most 100 tips at once." in page


def test_bulk_assign_label_and_status_change_each_tip_and_audit_each(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tips = [make_tip(db, desk_private_key) for _ in range(3)]
    untouched = make_tip(db, desk_private_key)
    account = make_staff(db, desk_private_key)
    sign_in(review_client, db, account)
    ids = [tip.tip_id for tip in tips]
    assert "Changed 3 tips." in _post(review_client, ids, "assign", assignee=str(account.staff_id))
    assert "Changed 3 tips." in _post(review_client, ids, "label", label="batch one")
    assert "Changed 3 tips." in _post(review_client, ids, "status", status="triaged")
    db.expire_all()
    for tip_id in ids:
        assert db.get(Tip, tip_id).status == TipStatus.TRIAGED  # type: ignore[union-attr]
        assert db.get(TipTriage, tip_id).assignee_id == account.staff_id  # type: ignore[union-attr]
        assert db.get(TipLabel, (tip_id, "batch one")) is not None
    assert db.get(Tip, untouched.tip_id).status == TipStatus.NEW  # type: ignore[union-attr]
    audited = db.execute(
        select(AuditEntry.action, AuditEntry.tip_id).where(AuditEntry.tip_id.is_not(None))
    ).all()
    for action in ("tip.assign", "tip.label", "tip.status"):
        assert sorted(t for a, t in audited if a == action) == sorted(ids)


def test_a_refused_change_changes_no_tip(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tips = [make_tip(db, desk_private_key) for _ in range(2)]
    sign_in(review_client, db, make_staff(db, desk_private_key))
    page = _post(review_client, [t.tip_id for t in tips], "status", status="closed", reason=" ")
    assert "Nothing was changed" in page
    db.expire_all()
    assert {db.get(Tip, t.tip_id).status for t in tips} == {TipStatus.NEW}  # type: ignore[union-attr]
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "tip.status")) is None


def test_no_selection_too_many_or_no_token_is_refused(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    sign_in(review_client, db, make_staff(db, desk_private_key, role=StaffRole.ADMIN))
    assert "Select at least one tip." in _post(review_client, [], "label", label="x")
    many = list(range(1, bulk.MAX_TIPS + 2))
    assert "Select at most 100 tips at once." in _post(review_client, many, "label", label="x")
    assert "Choose a change" in _post(review_client, [tip.tip_id], "delete")
    bare = review_client.post(
        "/tips/bulk", data={"tip_id": [str(tip.tip_id)], "bulk-action": "label", "bulk-label": "x"}
    )
    assert bare.status_code == 400
    assert db.scalar(select(TipLabel)) is None
