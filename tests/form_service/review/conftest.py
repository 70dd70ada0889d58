"""Fixtures of the desk tests: a database per backend, the desk app, staff and tips.

The chain builds on tests/form_service/conftest.py: settings -> review_app -> review_client,
plus factories (make_staff, make_tip) and sign_in(client, staff). CSRF stays on: helpers
read the token from the page like a browser would.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment, seal_tip
from form_service.frame import STATE_KEY
from form_service.models import Attachment, Staff, StaffRole, Tip, TipStatus, TipTopic
from form_service.review import create_app
from form_service.review.auth import accounts, totp
from form_service.settings import ReviewSettings

PASSWORD = "tangerine ocelot fjord quiver"  # noqa: S105 - a test account's password


@pytest.fixture
def desk_key(desk_private_key: PrivateKey) -> PrivateKey:
    """Return the desk's private key (the intake's fixtures hold only its public half)."""
    return desk_private_key


@pytest.fixture
def desk_db_url(db_url: str) -> str:
    """Return the test database, with the audit log's append-only trigger switched on."""
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url)
        with engine.begin() as connection:
            # A tampering test switches the trigger off; every test starts with it on.
            # lock_timeout: a connection left open elsewhere fails the test, never hangs it.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER ALL"))
        engine.dispose()
    return db_url


def make_review_settings(database_url: str, **overrides: Any) -> ReviewSettings:
    """Build the desk's test settings: its own secret, no Secure cookie over http."""
    options: dict[str, Any] = {
        "secret_key": "review-secret-" + "r" * 32,
        "database_url": database_url,
        "cookie_secure": False,
    }
    options.update(overrides)
    return ReviewSettings(**options)


@pytest.fixture
def review_settings(desk_db_url: str, desk_public_key: str, tmp_path: Path) -> ReviewSettings:
    """Return the desk's settings on the test database (the chain: settings -> review_app)."""
    return make_review_settings(
        desk_db_url, desk_public_key=desk_public_key, instance_dir=tmp_path / "instance"
    )


@pytest.fixture
def review_app(review_settings: ReviewSettings, desk_key: PrivateKey) -> Iterator[Flask]:
    """Create the desk app with the test key already unlocked."""
    app = create_app(review_settings, private_key=desk_key)
    app.config["TESTING"] = True
    yield app
    app.extensions[STATE_KEY].engine.dispose()


@pytest.fixture
def review_client(review_app: Flask) -> FlaskClient:
    """Return a test client of the desk."""
    return review_app.test_client()


@pytest.fixture
def db(review_app: Flask) -> Iterator[Session]:
    """Open a session on the test database (for factories and checks)."""
    with review_app.extensions[STATE_KEY].session_factory() as session:
        yield session


@dataclass
class StaffAccount:
    """A test account: its address, password and TOTP secret (None before enrolment)."""

    staff_id: int
    email: str
    password: str
    secret: str | None


def make_staff(
    db: Session,
    key: PrivateKey,
    email: str = "reviewer@example.org",
    role: StaffRole = StaffRole.REVIEWER,
    enrolled: bool = True,
) -> StaffAccount:
    """Create a staff account, enrolled in TOTP unless told otherwise."""
    staff = accounts.add_staff(db, email, role, PASSWORD, actor="test")
    secret = None
    if enrolled:
        secret = totp.new_secret()
        staff.sealed_totp_secret = accounts.seal_secret(key.public_key, secret)
        staff.totp_confirmed = True
    db.commit()
    return StaffAccount(staff.staff_id, staff.email, PASSWORD, secret)


def make_tip(db: Session, key: PrivateKey, **overrides: Any) -> Tip:
    """Seal and store a tip directly, the way the intake does."""
    fields = overrides.pop(
        "fields", {"message": "I saw something.", "when_where": "", "how_known": "", "contact": ""}
    )
    files = overrides.pop("files", ())
    sealed = seal_tip(key.public_key, fields, files)
    tip = Tip(
        received_on=overrides.pop("received_on", dt.date.today()),
        language=overrides.pop("language", "en"),
        topic=overrides.pop("topic", TipTopic.SIGHTING),
        status=overrides.pop("status", TipStatus.NEW),
        sealed_key=sealed.sealed_key,
        ciphertext=sealed.ciphertext,
        receipt_hash=secrets.token_bytes(32),
        attachments=[Attachment(ciphertext=item) for item in sealed.attachments],
    )
    db.add(tip)
    db.commit()
    return tip


def csrf_token(client: FlaskClient, path: str) -> str:
    """Load a desk page and return the CSRF token of its first form."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def next_code(db: Session, account: StaffAccount) -> str:
    """Return a valid code for a step this account has not used yet (within drift)."""
    assert account.secret is not None
    db.expire_all()
    last = db.get(Staff, account.staff_id).totp_last_step  # type: ignore[union-attr]
    step = totp.current_step() - 1 if last is None else max(totp.current_step() - 1, last + 1)
    assert step <= totp.current_step() + 1, "no unused code left in this 90-second window"
    return pyotp.TOTP(account.secret).at(step * totp.STEP_SECONDS)


def sign_in(client: FlaskClient, db: Session, account: StaffAccount) -> None:
    """Sign in through the real pages: password, then a fresh TOTP code."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": account.email, "password": account.password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    token = csrf_token(client, "/sign-in/code")
    response = client.post(
        "/sign-in/code", data={"csrf_token": token, "code": next_code(db, account)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


PlainFile = PlainAttachment


@pytest.fixture
def intake_client(intake_app: Flask) -> Iterator[FlaskClient]:
    """Return the public form's test client, closing its database pool afterwards."""
    yield intake_app.test_client()
    intake_app.extensions[STATE_KEY].engine.dispose()
