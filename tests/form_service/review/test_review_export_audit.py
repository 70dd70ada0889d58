"""Exports (admins, POST, neutralised cells), the audit chain and retention."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment
from form_service.models import Attachment, AuditEntry, StaffRole, Tip, TipStatus, TipTriage
from form_service.review import audit, retention
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import csrf_token, sign_in

FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://x","y")']


def as_admin(client: FlaskClient, db: Session, key: PrivateKey) -> None:
    """Sign in a fresh admin."""
    sign_in(client, db, make_staff(db, key, "admin@example.org", StaffRole.ADMIN))


def export(client: FlaskClient, file_format: str, **filters: str) -> bytes:
    """Post the export form from the inbox page and return the file."""
    token = csrf_token(client, "/")
    response = client.post(
        "/export", data={"csrf_token": token, "file_format": file_format, **filters}
    )
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.data


def test_csv_export_neutralises_every_formula_cell(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    for formula in FORMULAS:
        make_tip(db, desk_private_key, fields={"message": formula, "contact": "=cmd|' /C calc'!A0"})
    as_admin(review_client, db, desk_private_key)
    rows = list(csv.reader(io.StringIO(export(review_client, "csv").decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == len(FORMULAS)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\0")), cell
    messages = {row[header.index("message")] for row in body}
    assert messages == {"'" + formula for formula in FORMULAS}


def test_json_export_follows_the_filters_and_is_audited(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    make_tip(db, desk_private_key, fields={"message": "keep me"}, status=TipStatus.TRIAGED)
    make_tip(db, desk_private_key, fields={"message": "not me"})
    as_admin(review_client, db, desk_private_key)
    data = json.loads(export(review_client, "json", status="triaged"))
    assert [row["message"] for row in data] == ["keep me"]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert json.loads(entry.detail) == {
        "filters": {"status": "triaged"},
        "format": "json",
        "tips": 1,
    }
    assert "keep me" not in entry.detail


def test_export_is_post_only_and_admin_only(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key))
    token = csrf_token(review_client, "/")
    assert review_client.get("/export").status_code == 405
    refused = review_client.post("/export", data={"csrf_token": token, "file_format": "csv"})
    assert refused.status_code == 403
    assert 'action="/export"' not in review_client.get("/").get_data(as_text=True)


def test_audit_chain_verifies_and_names_the_first_tampered_entry(
    db: Session, desk_private_key: PrivateKey
) -> None:
    for number in range(5):
        audit.record(db, "someone@example.org", "tip.view", number)
    db.commit()
    assert audit.first_broken_entry(db) is None
    ids = list(db.scalars(select(AuditEntry.entry_id).order_by(AuditEntry.entry_id)))
    dialect = db.get_bind().dialect.name
    # Someone with full database rights switches the triggers off and rewrites history.
    if dialect == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.execute(text("DROP TRIGGER audit_entries_no_delete"))
    db.execute(
        text("UPDATE audit_entries SET actor = 'nobody' WHERE entry_id = :id"), {"id": ids[2]}
    )
    db.commit()
    assert audit.first_broken_entry(db) == ids[2]
    db.execute(
        text("UPDATE audit_entries SET actor = 'someone@example.org' WHERE entry_id = :id"),
        {"id": ids[2]},
    )
    db.execute(text("DELETE FROM audit_entries WHERE entry_id = :id"), {"id": ids[1]})
    db.commit()
    assert audit.first_broken_entry(db) == ids[2]


def test_the_audit_log_refuses_updates_and_deletes(db: Session) -> None:
    audit.record(db, "a@example.org", "sign_out")
    db.commit()
    with pytest.raises(DBAPIError):
        db.execute(text("UPDATE audit_entries SET actor = 'x'"))
    db.rollback()
    with pytest.raises(DBAPIError):
        db.execute(text("DELETE FROM audit_entries"))
    db.rollback()


def test_a_forked_chain_is_refused(db: Session) -> None:
    audit.record(db, "a@example.org", "sign_out")
    db.commit()
    head = db.scalar(select(AuditEntry))
    assert head is not None
    db.add(
        AuditEntry(
            recorded_at=head.recorded_at,
            actor="b",
            action="x",
            tip_id=None,
            detail="{}",
            prev_hash=head.prev_hash,
            entry_hash="f" * 64,
        )
    )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_admins_read_and_filter_the_audit_log(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    as_admin(review_client, db, desk_private_key)
    review_client.get(f"/tips/{tip.tip_id}")
    page = review_client.get("/audit?action=tip.view").get_data(as_text=True)
    assert "1 entry" in page and "tip.view" in page
    assert "sign_in.success" not in page
    everything = review_client.get("/audit").get_data(as_text=True)
    assert "sign_in.success" in everything and "staff.add" in everything


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
    today = dt.date.today()
    close_tip(db, soon, today - dt.timedelta(days=365 - 10))
    close_tip(db, later, today - dt.timedelta(days=365 - 20))
    sign_in(review_client, db, make_staff(db, desk_private_key))
    assert "1 closed tip will be deleted within 14 days." in review_client.get("/").get_data(
        as_text=True
    )


def test_dashboard_counts_by_status_and_week(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    today = dt.date.today()
    for days in (0, 0, 7, 80, 200):
        make_tip(db, desk_private_key, received_on=today - dt.timedelta(days=days))
    sign_in(review_client, db, make_staff(db, desk_private_key))
    page = review_client.get("/dashboard").get_data(as_text=True)
    assert page.count("<rect") == 12
    monday = today - dt.timedelta(days=today.weekday())
    assert (
        f'<time datetime="{monday.isoformat()}">{monday.isoformat()}</time></th><td>2</td>' in page
    )
    assert "<script" not in page
