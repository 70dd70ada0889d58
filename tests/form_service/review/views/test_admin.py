"""The admin pages: exports (admins, POST, neutralised cells), the audit log page, dashboard."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import AuditEntry, StaffRole, TipLabel, TipStatus
from tests.form_service.factories import FIXED_MOMENT, make_staff, make_tip
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
        "filters": ["status"],
        "format": "json",
        "tips": 1,
    }
    assert "keep me" not in entry.detail


def test_an_exports_audit_entry_names_its_filters_never_their_values(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key, fields={"message": "Kim Chol-su was seen"})
    db.add(TipLabel(tip_id=tip.tip_id, label="defector-source-X"))
    db.commit()
    as_admin(review_client, db, desk_private_key)
    data = json.loads(
        export(review_client, "json", search="Kim Chol-su", label="defector-source-X")
    )
    assert len(data) == 1
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert json.loads(entry.detail)["filters"] == ["label", "search"]
    assert "Kim" not in entry.detail and "defector" not in entry.detail


def test_export_is_post_only_and_admin_only(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key))
    token = csrf_token(review_client, "/")
    assert review_client.get("/export").status_code == 405
    refused = review_client.post("/export", data={"csrf_token": token, "file_format": "csv"})
    assert refused.status_code == 403
    assert 'action="/export"' not in review_client.get("/").get_data(as_text=True)


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


def test_dashboard_counts_by_status_and_week(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    today = FIXED_MOMENT.date()
    for days in (0, 0, 7, 80, 200):
        make_tip(db, desk_private_key, received_on=today - dt.timedelta(days=days))
    as_admin(review_client, db, desk_private_key)
    page = review_client.get("/dashboard").get_data(as_text=True)
    assert page.count("<rect") == 12
    monday = today - dt.timedelta(days=today.weekday())
    assert (
        f'<time datetime="{monday.isoformat()}">{monday.isoformat()}</time></th><td>2</td>' in page
    )
    assert "<script" not in page
