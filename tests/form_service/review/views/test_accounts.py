"""Admins manage accounts in the desk: invite (a one-time link), role, disable, reset, sessions.

The invitee's side (password through the link, then TOTP) runs on the real pages, on the
app's fixed clock; the 72 hours pass by moving that clock.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import AuditEntry, Staff, StaffRole, StaffSession
from form_service.review.auth import accounts, totp
from tests.form_service.factories import FIXED_MOMENT, PASSWORD, StaffAccount, make_staff
from tests.form_service.review.helpers import csrf_token, sign_in

NEW_PASSWORD = "walnut harbour lantern gymnast"  # noqa: S105 - a test account's password


def signed_in_admin(client: FlaskClient, db: Session, key: PrivateKey) -> StaffAccount:
    """Create an admin and sign in as them."""
    admin = make_staff(db, key, "admin@example.org", StaffRole.ADMIN)
    sign_in(client, db, admin)
    return admin


def invite(client: FlaskClient, email: str, role: str = "reviewer") -> str:
    """Invite someone through the accounts page; return the link's path and query."""
    token = csrf_token(client, "/accounts")
    response = client.post(
        "/accounts/invite", data={"csrf_token": token, "email": email, "role": role}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    match = re.search(r'<code id="invitation-link">([^<]+)</code>', response.get_data(as_text=True))
    assert match, "no invitation link shown"
    parts = urlsplit(match.group(1).replace("&amp;", "&"))
    return f"{parts.path}?{parts.query}"


def set_password(client: FlaskClient, link: str, new: str, again: str | None = None) -> int:
    """Post a new password through an invitation link; return the status."""
    token = csrf_token(client, link)
    code = link.split("code=", 1)[1]
    response = client.post(
        "/invitation",
        data={
            "csrf_token": token,
            "code": code,
            "new_password": new,
            "repeat_password": new if again is None else again,
        },
    )
    return response.status_code


def enrol_from_page(client: FlaskClient, clock: FixedClock) -> int:
    """Read the new authenticator key off the enrolment page and confirm it with a code."""
    page = client.get("/sign-in/enrol").get_data(as_text=True)
    match = re.search(r'<code id="totp-secret">([^<]+)</code>', page)
    assert match, page
    secret = match.group(1).replace(" ", "")
    code = pyotp.TOTP(secret).at(totp.current_step(clock.timestamp()) * totp.STEP_SECONDS)
    token = csrf_token(client, "/sign-in/enrol")
    return client.post("/sign-in/enrol", data={"csrf_token": token, "code": code}).status_code


def test_an_invited_reviewer_sets_a_password_and_enrols_through_the_link_once(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    admin_client, invitee = review_app.test_client(), review_app.test_client()
    signed_in_admin(admin_client, db, desk_private_key)
    link = invite(admin_client, "New.Reviewer@example.org")
    code = link.split("code=", 1)[1]
    staff = db.scalar(select(Staff).where(Staff.email == "new.reviewer@example.org"))
    assert staff is not None and staff.role == StaffRole.REVIEWER
    assert staff.enrolment_code_hash == accounts.code_hash(code)  # the hash only
    assert code not in admin_client.get("/accounts").get_data(as_text=True)
    assert "Invited, link still valid" in admin_client.get(f"/accounts/{staff.staff_id}").text

    assert invitee.get(link).status_code == 200
    assert set_password(invitee, link, "short") == 400
    assert set_password(invitee, link, "passwordpassword") == 400
    assert set_password(invitee, link, NEW_PASSWORD, "walnut harbour lantern gymnasts") == 400
    assert set_password(invitee, link, NEW_PASSWORD) == 302
    assert enrol_from_page(invitee, clock) == 302
    assert invitee.get("/").status_code == 200  # signed in with both factors
    db.expire_all()
    staff = db.get(Staff, staff.staff_id)
    assert staff is not None and staff.totp_confirmed and staff.enrolment_code_hash is None
    assert staff.last_sign_in_on == FIXED_MOMENT.date()
    assert review_app.test_client().get(link).status_code == 404  # spent
    listing = admin_client.get("/accounts").get_data(as_text=True)
    assert FIXED_MOMENT.date().isoformat() in listing
    actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))
    assert "staff.invite" in actions and "staff.invitation_accepted" in actions
    assert actions[-2:] == ["staff.enrol_2fa", "sign_in.success"]
    assert all(code not in detail for detail in db.scalars(select(AuditEntry.detail)))


def test_an_invitation_link_dies_after_72_hours(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    admin_client = review_app.test_client()
    signed_in_admin(admin_client, db, desk_private_key)
    link = invite(admin_client, "late@example.org")
    clock.advance(hours=72)
    invitee = review_app.test_client()
    gone = invitee.get(link)
    assert gone.status_code == 404 and "no longer works" in gone.get_data(as_text=True)
    assert invitee.get("/invitation?code=" + "A" * 29).status_code == 404
    assert invitee.get("/invitation").status_code == 404


def test_an_invitation_for_an_existing_address_or_no_address_is_refused_kindly(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    signed_in_admin(review_client, db, desk_private_key)
    token = csrf_token(review_client, "/accounts")
    taken = review_client.post(
        "/accounts/invite",
        data={"csrf_token": token, "email": "ADMIN@example.org", "role": "reviewer"},
    )
    assert taken.status_code == 400 and "already" in taken.get_data(as_text=True)
    empty = review_client.post(
        "/accounts/invite", data={"csrf_token": token, "email": "", "role": "boss"}
    )
    assert empty.status_code == 400
    assert db.scalar(select(Staff).where(Staff.email != "admin@example.org")) is None


def _post(client: FlaskClient, path: str, **data: str) -> str:
    """Post a form of an account page, follow the redirect and return the page shown."""
    token = csrf_token(client, "/accounts")  # any desk form's token is the session's
    response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_last_active_admin_is_kept_on_the_pages_too(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    admin = signed_in_admin(review_client, db, desk_private_key)
    page = _post(review_client, f"/accounts/{admin.staff_id}/disable")
    assert "last active administrator" in page
    page = _post(review_client, f"/accounts/{admin.staff_id}/role", role="reviewer")
    assert "last active administrator" in page
    db.expire_all()
    staff = db.get(Staff, admin.staff_id)
    assert staff is not None and staff.role == StaffRole.ADMIN and not staff.disabled
    assert review_client.get("/accounts").status_code == 200  # still signed in, still admin


def test_an_admin_disables_promotes_resets_and_ends_the_sessions_of_a_reviewer(
    review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    admin_client, reviewer_client = review_app.test_client(), review_app.test_client()
    signed_in_admin(admin_client, db, desk_private_key)
    reviewer = make_staff(db, desk_private_key)
    sign_in(reviewer_client, db, reviewer)
    base = f"/accounts/{reviewer.staff_id}"
    assert "Disable the account" in admin_client.get(base).get_data(as_text=True)
    _post(admin_client, f"{base}/disable")
    assert reviewer_client.get("/").status_code == 302  # its session ended
    assert "Enable the account again" in admin_client.get(base).get_data(as_text=True)
    _post(admin_client, f"{base}/enable")
    sign_in(reviewer_client, db, reviewer)
    _post(admin_client, f"{base}/sessions/end")
    assert reviewer_client.get("/").status_code == 302
    _post(admin_client, f"{base}/role", role="admin")
    db.expire_all()
    assert db.get(Staff, reviewer.staff_id).role == StaffRole.ADMIN  # type: ignore[union-attr]

    token = csrf_token(admin_client, base)
    shown = admin_client.post(f"{base}/second-factor", data={"csrf_token": token})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    match = re.search(r'<code id="enrolment-code">([^<]+)</code>', shown.get_data(as_text=True))
    assert match
    db.expire_all()
    staff = db.get(Staff, reviewer.staff_id)
    assert staff is not None and not staff.totp_confirmed
    assert staff.enrolment_code_hash == accounts.code_hash(match.group(1))
    assert db.scalar(select(StaffSession).where(StaffSession.staff_id == staff.staff_id)) is None
    actions = list(
        db.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin@example.org"))
    )
    for action in ("staff.disable", "staff.enable", "staff.end_sessions", "staff.role"):
        assert action in actions
    assert actions[-2:] == ["staff.reset_2fa", "staff.enrolment_code"]


def test_a_reviewer_sees_no_accounts_link_and_cannot_open_the_pages(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    reviewer = make_staff(db, desk_private_key)
    sign_in(review_client, db, reviewer)
    assert 'href="/accounts"' not in review_client.get("/").get_data(as_text=True)
    assert review_client.get("/accounts").status_code == 403
    assert review_client.get(f"/accounts/{reviewer.staff_id}").status_code == 403


def test_the_account_pages_speak_japanese(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    signed_in_admin(review_client, db, desk_private_key)
    review_client.get("/language/ja?next=/accounts")
    page = review_client.get("/accounts").get_data(as_text=True)
    assert 'lang="ja"' in page and "アカウント" in page
    gone = review_client.get("/invitation?code=nothing").get_data(as_text=True)
    assert "このリンク" in gone
    assert PASSWORD not in page


def test_an_enrolment_code_from_a_reset_dies_after_72_hours_at_sign_in(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key, enrolled=False)
    clock.advance(hours=72)
    token = csrf_token(review_client, "/sign-in")
    review_client.post(
        "/sign-in", data={"csrf_token": token, "email": account.email, "password": PASSWORD}
    )
    token = csrf_token(review_client, "/sign-in/enrol")
    response = review_client.post(
        "/sign-in/enrol", data={"csrf_token": token, "enrolment_code": account.enrolment_code}
    )
    assert response.status_code == 401
    assert "totp-secret" not in review_client.get("/sign-in/enrol").get_data(as_text=True)
