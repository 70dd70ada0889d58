"""`form-service init` and `form-service db ...` migrate the database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from form_service import migrate
from form_service.cli import cli
from form_service.settings import Settings


def env_for(settings: Settings) -> dict[str, str]:
    """Return the environment that names these settings."""
    return {
        "FORM_SERVICE_SECRET_KEY": settings.secret_key,
        "FORM_SERVICE_RECEIPT_PEPPER": settings.receipt_pepper,
        "FORM_SERVICE_DESK_PUBLIC_KEY": settings.desk_public_key,
        "FORM_SERVICE_DATABASE_URL": settings.database_url,
    }


def test_init_and_db_commands_migrate_the_database(tmp_path: Path, settings: Settings) -> None:
    env = env_for(settings)
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "downgrade", "base"], env=env)
    assert result.exit_code == 0, result.output
    assert migrate.current_revisions(settings) == ()
    result = runner.invoke(cli, ["init"], env=env)
    assert result.exit_code == 0, result.output
    assert migrate.current_revisions(settings) == migrate.head_revisions(settings)
    result = runner.invoke(cli, ["db", "current"], env=env)
    assert "0001_intake" in result.output or "current:" in result.output
