"""Drive Alembic from code: the CLI, the development server and the tests use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from form_service.db import make_engine, sqlite_file
from form_service.files import create_private
from form_service.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    """Build an Alembic configuration that reads the database URL from settings."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Migrate the database up to a revision (creating the SQLite file if needed)."""
    path = sqlite_file(settings.database_url)
    if path is not None:
        create_private(path)
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    """Migrate the database down to a revision."""
    command.downgrade(alembic_config(settings), revision)


def current_revisions(settings: Settings) -> tuple[str, ...]:
    """Return the revisions the database is at (empty before the first upgrade)."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def head_revisions(settings: Settings) -> tuple[str, ...]:
    """Return the newest revisions known to the code."""
    return tuple(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
