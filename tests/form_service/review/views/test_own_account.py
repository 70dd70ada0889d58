"""Every staff member's own page: password, authenticator, sessions, recovery codes.

Codes come from the app's fixed clock (helpers.next_code); nothing here races a TOTP step.
"""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import AuditEntry, RecoveryCode, Staff, StaffSession
from form_service.review.auth import accounts, totp
from tests.form_service.factories import PASSWORD, StaffAccount, make_staff
from tests.form_service.review.helpers import csrf_token, sign_in

NEW_PASSWORD = "walnut harbour lantern gymnast"  # noqa: S105 - a test account's password


def post(client: FlaskClient, path: str, **data: str) -> tuple[int, str]:
    """Post a form of the own page with the session's CSRF token; return status and page."""
    token = csrf_token(client, "/account")
    response = client.post(path, data={"csrf_token": token, **data})
    return response.status_code, response.get_data(as_text=True)


def post_password(client: FlaskClient, email: str, password: str) -> int:
    """Submit the sign-in form's first step; return the status."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    return response.status_code


def actions(db: Session) -> list[str]:
    """Return the audited actions, oldest first."""
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    here, elsewhere = review_app.test_client(), review_app.test_client()
    sign_in(here, db, account)
    sign_in(elsewhere, db, account)
    fields = {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    wrong = "not it at all"
    status, page = post(here, "/account/password", current_password=wrong, **fields)
    assert status == 400 and "not your current password" in page
    weak = {"new_password": "passwordpassword", "repeat_password": "passwordpassword"}
    assert post(here, "/account/password", current_password=PASSWORD, **weak)[0] == 400
    differ = {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD + "x"}
    assert post(here, "/account/password", current_password=PASSWORD, **differ)[0] == 400
    assert post(here, "/account/password", current_password="", **fields)[0] == 400
    assert elsewhere.get("/").status_code == 200  # nothing changed so far
    assert post(here, "/account/password", current_password=PASSWORD, **fields)[0] == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    clock.advance(seconds=60)  # a new minute of sign-in attempts for this account
    assert post_password(review_app.test_client(), account.email, PASSWORD) == 401
    sign_in(
        elsewhere, db, StaffAccount(account.staff_id, account.email, NEW_PASSWORD, account.secret)
    )
    assert actions(db).count("staff.password_change") == 1


def test_the_own_page_lists_sessions_by_day_and_language_and_ends_them(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    here, other, third = (review_app.test_client() for _ in range(3))
    other.get("/language/ja")
    sign_in(here, db, account)
    sign_in(other, db, account)
    clock.advance(seconds=60)  # a new minute of sign-in attempts for this account
    sign_in(third, db, account)
    page = here.get("/account").get_data(as_text=True)
    assert page.count("<td>2026-05-13</td>") == 6  # started and last used, for each of three
    assert "日本語" in page and "This session" in page and "127.0.0.1" not in page
    ids = re.findall(r'action="/account/sessions/([0-9a-f]{16})/end"', page)
    assert len(ids) == 2
    assert all(record.token_hash[:16] not in ids for record in db.scalars(select(StaffSession)))
    for public_id in ids:
        post(here, f"/account/sessions/{public_id}/end")
    assert other.get("/").status_code == 302 and third.get("/").status_code == 302
    assert here.get("/").status_code == 200
    assert post(here, f"/account/sessions/{ids[0]}/end")[0] == 302  # gone already: no error
    clock.advance(seconds=60)
    sign_in(other, db, account)
    post(here, "/account/sessions/end-others")
    assert other.get("/").status_code == 302 and here.get("/").status_code == 200
    assert actions(db).count("staff.end_session") == 2
    assert "staff.end_other_sessions" in actions(db)


def test_re_enrolling_needs_the_password_and_replaces_the_authenticator(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    sign_in(review_client, db, account)
    post(review_client, "/account/second-factor", **{"factor-current_password": "wrong one!"})
    db.expire_all()
    assert db.get(Staff, account.staff_id).totp_confirmed  # type: ignore[union-attr]
    token = csrf_token(review_client, "/account")
    response = review_client.post(
        "/account/second-factor",
        data={"csrf_token": token, "factor-current_password": PASSWORD},
    )
    assert response.headers["Location"] == "/sign-in/enrol"
    page = review_client.get("/sign-in/enrol").get_data(as_text=True)
    match = re.search(r'<code id="totp-secret">([^<]+)</code>', page)
    assert match
    secret = match.group(1).replace(" ", "")
    assert secret != account.secret
    code = pyotp.TOTP(secret).at(totp.current_step(clock.timestamp()) * totp.STEP_SECONDS)
    token = csrf_token(review_client, "/sign-in/enrol")
    assert (
        review_client.post("/sign-in/enrol", data={"csrf_token": token, "code": code}).status_code
        == 302
    )
    assert review_client.get("/").status_code == 200
    db.expire_all()
    staff = db.get(Staff, account.staff_id)
    assert staff is not None and staff.totp_confirmed
    assert accounts.open_secret(desk_private_key, staff.sealed_totp_secret or b"") == secret


def make_codes(client: FlaskClient, password: str = PASSWORD) -> list[str]:
    """Make recovery codes on the own page; return the codes shown."""
    token = csrf_token(client, "/account")
    response = client.post(
        "/account/recovery-codes", data={"csrf_token": token, "codes-current_password": password}
    )
    if response.status_code != 200:
        return []
    assert response.headers["Cache-Control"] == "no-store"
    return re.findall(r"<li><code>([A-Z2-7-]+)</code></li>", response.get_data(as_text=True))


def use_recovery_code(client: FlaskClient, account: StaffAccount, code: str) -> int:
    """Sign in with the password, then a recovery code; return the last status."""
    assert post_password(client, account.email, account.password) == 302
    token = csrf_token(client, "/sign-in/recovery")
    response = client.post("/sign-in/recovery", data={"csrf_token": token, "recovery_code": code})
    return response.status_code


def test_each_recovery_code_signs_in_once_in_place_of_totp_and_is_audited(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    owner = review_app.test_client()
    sign_in(owner, db, account)
    assert make_codes(owner, "wrong password") == []
    codes = make_codes(owner)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(db.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not any(code in digest for code in codes for digest in stored)
    assert "10 unused recovery codes" in owner.get("/account").get_data(as_text=True)

    lost_phone = review_app.test_client()
    assert use_recovery_code(lost_phone, account, codes[3].lower().replace("-", " ")) == 302
    assert lost_phone.get("/").status_code == 200
    clock.advance(seconds=60)  # a new minute of sign-in attempts for this account
    again = review_app.test_client()
    assert use_recovery_code(again, account, codes[3]) == 401
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "sign_in.recovery_code_used"))
    assert entry is not None and '"left": 9' in entry.detail and codes[3] not in entry.detail
    assert "sign_in.failure" in actions(db)
    assert len(make_codes(owner)) == 10
    clock.advance(seconds=600)  # past the growing delay after the failure
    assert use_recovery_code(review_app.test_client(), account, codes[0]) == 401  # replaced


def test_a_recovery_code_of_another_account_does_not_work(
    review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    mine = make_staff(db, desk_private_key)
    theirs = make_staff(db, desk_private_key, "other@example.org")
    client = review_app.test_client()
    sign_in(client, db, theirs)
    codes = make_codes(client)
    assert use_recovery_code(review_app.test_client(), mine, codes[0]) == 401


def test_switching_the_language_is_kept_on_the_session_too(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key))
    assert db.scalar(select(StaffSession.language)) == "en"
    review_client.get("/language/ja")
    db.expire_all()
    assert db.scalar(select(StaffSession.language)) == "ja"
