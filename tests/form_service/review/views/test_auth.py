"""Sign-in through the pages: two factors, throttling, fresh sessions, sign-out, `next`.

The session records' timeouts are in auth/test_sessions.py, the cookie's flags in
test_headers.py, throttling across processes in auth/test_throttle.py.
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
from form_service.models import AuditEntry, Staff, StaffSession
from form_service.review.auth import accounts, totp
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import csrf_token, next_code, sign_in


def post_password(client: FlaskClient, email: str, password: str) -> tuple[int, str]:
    """Submit the sign-in form and return the status and page text."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    return response.status_code, response.get_data(as_text=True)


def enter_enrolment_code(client: FlaskClient, code: str) -> int:
    """Post the one-time enrolment code; return the status."""
    token = csrf_token(client, "/sign-in/enrol")
    response = client.post("/sign-in/enrol", data={"csrf_token": token, "enrolment_code": code})
    return response.status_code


def session_cookie(client: FlaskClient) -> str:
    """Return the value of the desk's session cookie."""
    cookie = client.get_cookie("desk_session")
    assert cookie is not None
    return cookie.value


def test_wrong_password_unknown_and_disabled_accounts_get_the_same_answer(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    other = make_staff(db, desk_private_key, "gone@example.org")
    accounts.disable_staff(db, other.email, "test")
    db.commit()
    answers = {
        post_password(review_client, account.email, "wrong password entirely"),
        post_password(review_client, "nobody@example.org", account.password),
        post_password(review_client, other.email, other.password),
    }
    statuses = {status for status, _ in answers}
    messages = {re.search(r'role="alert"><p>([^<]*)<', page).group(1) for _, page in answers}  # type: ignore[union-attr]
    assert statuses == {401}
    assert len(messages) == 1


def test_five_failures_make_that_account_wait_but_not_others(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    bystander = make_staff(db, desk_private_key, "bystander@example.org")
    for _ in range(5):
        assert "Wait" not in post_password(review_client, account.email, "not the password!")[1]
    status, page = post_password(review_client, account.email, account.password)
    assert status == 401
    assert "Too many failed attempts on this account. Wait" in page
    status, page = post_password(review_client, bystander.email, bystander.password)
    assert status == 302


def test_unknown_accounts_are_throttled_the_same_way(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    for _ in range(5):
        post_password(review_client, "ghost@example.org", "whatever password")
    assert "Too many failed attempts" in post_password(review_client, "ghost@example.org", "x")[1]


def test_first_sign_in_enrols_an_authenticator_from_the_page(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key, enrolled=False)
    status, _ = post_password(review_client, account.email, account.password)
    assert status == 302
    enter_enrolment_code(review_client, account.enrolment_code or "")
    page = review_client.get("/sign-in/enrol").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)  # type: ignore[union-attr]
    secret = secret.replace(" ", "")
    assert "<img" not in page
    token = csrf_token(review_client, "/sign-in/enrol")
    response = review_client.post("/sign-in/enrol", data={"csrf_token": token, "code": "000000"})
    assert response.status_code == 200  # Wrong code: the page again, same secret.
    assert secret in response.get_data(as_text=True).replace(" ", "")
    token = csrf_token(review_client, "/sign-in/enrol")
    response = review_client.post(
        "/sign-in/enrol",
        data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock.timestamp())},
    )
    assert response.status_code == 302
    assert review_client.get("/").status_code == 200
    db.expire_all()
    assert db.get(Staff, account.staff_id).totp_confirmed  # type: ignore[union-attr]


def test_a_totp_code_is_never_accepted_twice(
    review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    assert account.secret is not None
    first, second = review_app.test_client(), review_app.test_client()
    code = next_code(first, db, account)
    for client in (first, second):
        post_password(client, account.email, account.password)
    token = csrf_token(first, "/sign-in/code")
    assert first.post("/sign-in/code", data={"csrf_token": token, "code": code}).status_code == 302
    token = csrf_token(second, "/sign-in/code")
    replay = second.post("/sign-in/code", data={"csrf_token": token, "code": code})
    assert replay.status_code == 401
    assert second.get("/").status_code == 302


def test_a_code_drawn_just_before_a_step_boundary_works_after_it_once(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    # The old flake: a code drawn, then two Argon2 sign-ins, then a step boundary before the
    # post. With the clock injected the boundary is crossed on purpose, every run.
    account = make_staff(db, desk_private_key)
    assert account.secret is not None
    clock.moment = clock.moment.replace(second=29)
    code = pyotp.TOTP(account.secret).at(clock.timestamp())
    first, second = review_app.test_client(), review_app.test_client()
    for client in (first, second):
        post_password(client, account.email, account.password)
    clock.advance(seconds=2)
    token = csrf_token(first, "/sign-in/code")
    assert first.post("/sign-in/code", data={"csrf_token": token, "code": code}).status_code == 302
    token = csrf_token(second, "/sign-in/code")
    assert second.post("/sign-in/code", data={"csrf_token": token, "code": code}).status_code == 401


def test_a_code_two_steps_away_is_refused(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    assert account.secret is not None
    post_password(review_client, account.email, account.password)
    stale = pyotp.TOTP(account.secret).at((totp.current_step(clock.timestamp()) - 3) * 30)
    token = csrf_token(review_client, "/sign-in/code")
    response = review_client.post("/sign-in/code", data={"csrf_token": token, "code": stale})
    assert response.status_code == 401


def test_a_cookie_replayed_after_sign_out_no_longer_works(
    review_client: FlaskClient, review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    sign_in(review_client, db, account)
    copied = session_cookie(review_client)
    token = csrf_token(review_client, "/")
    assert review_client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    thief = review_app.test_client()
    thief.set_cookie("desk_session", copied)
    response = thief.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert db.scalar(select(StaffSession)) is None


def test_sign_in_issues_a_new_session_id(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    review_client.get("/sign-in")
    before = session_cookie(review_client)
    post_password(review_client, account.email, account.password)
    half = db.scalars(select(StaffSession.token_hash)).all()
    token = csrf_token(review_client, "/sign-in/code")
    review_client.post(
        "/sign-in/code", data={"csrf_token": token, "code": next_code(review_client, db, account)}
    )
    after = session_cookie(review_client)
    full = db.scalars(select(StaffSession.token_hash)).all()
    assert before != after
    assert len(half) == len(full) == 1
    assert half != full


def test_sign_in_and_sign_out_are_audited_without_secrets(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    post_password(review_client, account.email, "a wrong password here")
    sign_in(review_client, db, account)
    token = csrf_token(review_client, "/")
    review_client.post("/sign-out", data={"csrf_token": token})
    actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.entry_id))]
    assert actions[-3:] == ["sign_in.failure", "sign_in.success", "sign_out"]
    details = " ".join(e.detail for e in db.scalars(select(AuditEntry)))
    assert "wrong password" not in details


def test_sign_in_with_next_returns_to_that_desk_page(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    response = review_client.get(f"/tips/{tip.tip_id}")
    assert response.headers["Location"] == f"/sign-in?next=/tips/{tip.tip_id}"
    account = make_staff(db, desk_private_key)
    token = csrf_token(review_client, f"/sign-in?next=/tips/{tip.tip_id}")
    response = review_client.post(
        "/sign-in",
        data={
            "csrf_token": token,
            "email": account.email,
            "password": account.password,
            "next": f"/tips/{tip.tip_id}",
        },
    )
    assert response.headers["Location"].startswith("/sign-in/code?next=")
    token = csrf_token(review_client, response.headers["Location"])
    response = review_client.post(
        "/sign-in/code",
        data={
            "csrf_token": token,
            "code": next_code(review_client, db, account),
            "next": f"/tips/{tip.tip_id}",
        },
    )
    assert response.headers["Location"] == f"/tips/{tip.tip_id}"


def test_an_outside_next_is_dropped_at_sign_in(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    token = csrf_token(review_client, "/sign-in")
    response = review_client.post(
        "/sign-in",
        data={
            "csrf_token": token,
            "email": account.email,
            "password": account.password,
            "next": "//evil.example/",
        },
    )
    assert "evil" not in response.headers["Location"]


def test_the_sign_in_page_describes_itself_and_offers_no_hreflang_alternates(
    review_client: FlaskClient,
) -> None:
    page = review_client.get("/sign-in").get_data(as_text=True)
    assert '<meta name="description" content="' in page
    # The language switch sets a cookie and redirects: never an alternate for search engines.
    assert 'rel="alternate"' not in page
    assert re.search(r'<a href="/language/ja\?next=/sign-in"[^>]*hreflang="ja"', page)
    assert re.search(r'<link rel="stylesheet" href="/theme/css/site\.css\?v=[0-9a-f]{12}">', page)


def test_the_password_alone_never_shows_an_authenticator_secret(
    review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    # Whoever learns a new account's password first must not choose its second factor.
    account = make_staff(db, desk_private_key, enrolled=False)
    stranger, owner = review_app.test_client(), review_app.test_client()
    assert post_password(stranger, account.email, account.password)[0] == 302
    page = stranger.get("/sign-in/enrol").get_data(as_text=True)
    assert "<svg" not in page and "totp-secret" not in page
    assert enter_enrolment_code(stranger, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF") == 401
    assert "<svg" not in stranger.get("/sign-in/enrol").get_data(as_text=True)
    assert post_password(owner, account.email, account.password)[0] == 302
    assert enter_enrolment_code(owner, (account.enrolment_code or "").lower()) == 302
    assert "<svg" in owner.get("/sign-in/enrol").get_data(as_text=True)
    # The code works once: the stranger cannot replay it after the owner used it.
    assert enter_enrolment_code(stranger, account.enrolment_code or "") == 401
    assert "<svg" not in stranger.get("/sign-in/enrol").get_data(as_text=True)
    failures = db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "sign_in.failure"))
    assert [detail for detail in failures if "enrolment_code" in detail] != []
