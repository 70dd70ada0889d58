"""Helpers of the desk tests that use its pages as a browser does: CSRF tokens, sign-in."""

from __future__ import annotations

import re

import pyotp
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from form_service.clock import Clock
from form_service.frame import STATE_KEY
from form_service.models import Staff
from form_service.review.auth import totp
from tests.form_service.factories import StaffAccount


def csrf_token(client: FlaskClient, path: str) -> str:
    """Load a desk page and return the CSRF token of its first form."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def next_code(client: FlaskClient, db: Session, account: StaffAccount) -> str:
    """Return a valid code, on the app's clock, for a step this account has not used yet."""
    assert account.secret is not None
    db.expire_all()
    last = db.get(Staff, account.staff_id).totp_last_step  # type: ignore[union-attr]
    now = totp.current_step(app_clock(client).timestamp())
    step = now - 1 if last is None else max(now - 1, last + 1)
    assert step <= now + 1, "no unused code left in this 90-second window: advance the clock"
    return pyotp.TOTP(account.secret).at(step * totp.STEP_SECONDS)


def app_clock(client: FlaskClient) -> Clock:
    """Return the clock the app behind a test client reads (a FixedClock in the tests)."""
    clock: Clock = client.application.extensions[STATE_KEY].clock
    return clock


def sign_in(client: FlaskClient, db: Session, account: StaffAccount) -> None:
    """Sign in through the real pages: password, then a fresh TOTP code."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": account.email, "password": account.password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    token = csrf_token(client, "/sign-in/code")
    response = client.post(
        "/sign-in/code", data={"csrf_token": token, "code": next_code(client, db, account)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
