"""Fixtures of the tip service's tests: settings -> intake_app -> client, on both databases."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from sqlalchemy import create_engine, inspect, text

from form_service import migrate
from form_service.frame import STATE_KEY
from form_service.settings import IntakeSettings
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


def make_settings(database_url: str, desk_public_key: str, **overrides: Any) -> IntakeSettings:
    """Build test settings: real secrets, no Secure cookie over the test client's http."""
    options: dict[str, Any] = {
        "secret_key": "test-secret-key-" + "s" * 32,
        "receipt_pepper": "test-receipt-pepper-" + "p" * 32,
        "desk_public_key": desk_public_key,
        "database_url": database_url,
        "cookie_secure": False,
        "ratelimit_submit": "1000 per hour",
    }
    options.update(overrides)
    return IntakeSettings(**options)


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str, desk_public_key: str) -> str:
    """Migrate the session's PostgreSQL database once and return its URL."""
    migrate.upgrade(make_settings(postgres_url, desk_public_key))
    return postgres_url


def empty_tables(database_url: str) -> None:
    """Delete every row (the schema stays), so each test starts from an empty database."""
    engine = create_engine(database_url)
    try:
        names = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
        if names:
            with engine.begin() as connection:
                quoted = ", ".join(f'"{name}"' for name in names)
                connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, desk_public_key: str) -> Iterator[str]:
    """Yield the URL of an empty, migrated database: a fresh SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'instance' / 'form_service.sqlite3'}"
        migrate.upgrade(make_settings(url, desk_public_key))
        yield url
        return
    url = request.getfixturevalue("migrated_postgres")
    empty_tables(url)
    yield url
    empty_tables(url)


@pytest.fixture
def settings(db_url: str, desk_public_key: str, tmp_path: Path) -> IntakeSettings:
    """Return the settings of one test's intake."""
    return make_settings(db_url, desk_public_key, instance_dir=tmp_path / "instance")


@pytest.fixture
def intake_app(settings: IntakeSettings) -> Iterator[Any]:
    """Create the public intake app for one test, and close its connections after."""
    from form_service.intake import create_app

    app = create_app(settings)
    yield app
    app.extensions[STATE_KEY].engine.dispose()


@pytest.fixture
def client(intake_app: Any) -> Any:
    """Return a test client of the intake app (CSRF on, as in production)."""
    return intake_app.test_client()
