"""The schema comes from Alembic and matches the models; migrations go down and up again.

On both databases; the SQLite file it creates is its owner's only.
"""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from form_service import migrate
from form_service.db import make_engine
from form_service.models import Base
from form_service.settings import Settings
from tests.form_service.factories import make_settings

INTAKE_TABLES = {"tips", "attachments"}


def test_the_first_revision_is_0001_intake(settings: Settings) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    assert scripts.get_base() == "0001_intake"
    assert migrate.current_revisions(settings) == migrate.head_revisions(settings)


def test_the_migrations_match_the_models(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_go_down_and_up_again(settings: Settings) -> None:
    heads = migrate.head_revisions(settings)
    migrate.downgrade(settings, "base")
    engine = make_engine(settings)
    try:
        assert not INTAKE_TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    migrate.upgrade(settings)
    assert migrate.current_revisions(settings) == heads


def test_the_sqlite_file_is_readable_by_its_owner_only(
    tmp_path: Path, desk_public_key: str
) -> None:
    path = tmp_path / "private" / "tips.sqlite3"
    migrate.upgrade(make_settings(f"sqlite:///{path}", desk_public_key))
    assert path.stat().st_mode & 0o077 == 0


def test_codes_outstanding_at_the_upgrade_get_72_hours(settings: Settings) -> None:
    migrate.downgrade(settings, "0011_random_tip_ids")
    engine = make_engine(settings)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO staff (email, role, password_hash, totp_confirmed, disabled,"
                    " enrolment_code_hash, created_at) VALUES ('a@example.org', 'admin', 'x',"
                    " false, false, :code, CURRENT_TIMESTAMP)"
                ),
                {"code": "0" * 64},
            )
        migrate.upgrade(settings)
        with engine.connect() as connection:
            expires = connection.scalar(text("SELECT enrolment_code_expires_at FROM staff"))
    finally:
        engine.dispose()
    assert expires is not None
