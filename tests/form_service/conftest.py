"""Fixtures of the tip service's tests, one chain on both databases.

    desk_private_key -> desk_public_key -> db_url (sqlite, postgresql)
        -> settings -> intake_app -> client                  (the public intake)
        -> append_only_audit_log -> review_settings -> review_app -> review_client, db
                                                             (the staff desk)
    smtp_sink                                                (a real SMTP server on loopback)
    clock (a FixedClock both apps read; itsdangerous' signing time follows it too)

Factories (make_settings, make_staff, make_tip, ...) live in factories.py; page helpers in
intake/helpers.py and review/helpers.py. CSRF stays on: helpers read the token from the
page like a browser would.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from nacl.public import PrivateKey
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from form_service import migrate
from form_service.clock import FixedClock
from form_service.frame import STATE_KEY
from form_service.settings import IntakeSettings, ReviewSettings
from tests.form_service.factories import FIXED_MOMENT, make_review_settings, make_settings
from tests.form_service.smtp import Sink, running_sink
from tools.catalogs import compile_all


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Make sure the catalogs are compiled, so `pytest` alone works."""
    compile_all()


@pytest.fixture(scope="session")
def desk_private_key() -> PrivateKey:
    """Return the desk's private key for this run (the intake only gets the public half)."""
    return PrivateKey.generate()


@pytest.fixture(scope="session")
def desk_public_key(desk_private_key: PrivateKey) -> str:
    """Return the desk's public key as the intake's configuration holds it."""
    return base64.b64encode(bytes(desk_private_key.public_key)).decode("ascii")


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str, desk_public_key: str) -> str:
    """Migrate the session's PostgreSQL database once and return its URL."""
    migrate.upgrade(make_settings(postgres_url, desk_public_key))
    return postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, desk_public_key: str) -> Iterator[str]:
    """Yield the URL of an empty, migrated database: a fresh SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'instance' / 'form_service.sqlite3'}"
        migrate.upgrade(make_settings(url, desk_public_key))
        yield url
        return
    url = request.getfixturevalue("migrated_postgres")

    def empty_tables() -> None:
        """Delete every row (the schema stays), so each test starts from an empty database."""
        engine = create_engine(url)
        try:
            names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
            if names:
                with engine.begin() as connection:
                    quoted = ", ".join(f'"{name}"' for name in names)
                    connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()

    empty_tables()
    yield url
    empty_tables()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """Return the clock of this test's apps, standing still until the test moves it.

    Session cookies and CSRF tokens carry itsdangerous timestamps; they follow the same
    clock, so a test ages a token by advancing the clock, never by waiting.
    """
    fixed = FixedClock(FIXED_MOMENT)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(fixed.timestamp()))
    return fixed


# --- The public intake ------------------------------------------------------------------


@pytest.fixture
def settings(db_url: str, desk_public_key: str, tmp_path: Path) -> IntakeSettings:
    """Return the settings of one test's intake."""
    return make_settings(db_url, desk_public_key, instance_dir=tmp_path / "instance")


@pytest.fixture
def intake_app(settings: IntakeSettings, clock: FixedClock) -> Iterator[Any]:
    """Create the public intake app for one test, and close its connections after."""
    from form_service.intake import create_app

    app = create_app(settings, clock)
    yield app
    app.extensions[STATE_KEY].engine.dispose()


@pytest.fixture
def client(intake_app: Any) -> Any:
    """Return a test client of the intake app (CSRF on, as in production)."""
    return intake_app.test_client()


# --- The staff desk ---------------------------------------------------------------------


@pytest.fixture
def append_only_audit_log(db_url: str) -> None:
    """Switch the audit log's append-only trigger on in the test database."""
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url)
        with engine.begin() as connection:
            # A tampering test switches the trigger off; every test starts with it on.
            # lock_timeout: a connection left open elsewhere fails the test, never hangs it.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER ALL"))
        engine.dispose()


@pytest.fixture
def review_settings(
    db_url: str, append_only_audit_log: None, desk_public_key: str, tmp_path: Path
) -> ReviewSettings:
    """Return the desk's settings on the test database, its audit log append-only."""
    return make_review_settings(
        db_url, desk_public_key=desk_public_key, instance_dir=tmp_path / "instance"
    )


@pytest.fixture
def review_app(
    review_settings: ReviewSettings, desk_private_key: PrivateKey, clock: FixedClock
) -> Iterator[Flask]:
    """Create the desk app with the test key already unlocked, on the test's clock."""
    from form_service.review import create_app

    app = create_app(review_settings, private_key=desk_private_key, clock=clock)
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


# --- Mail ---------------------------------------------------------------------------------


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """Run a real SMTP server on loopback for one test and hand over what it received."""
    with running_sink() as sink:
        yield sink
