"""`form-service init` and `form-service db ...`: the database schema (Alembic)."""

from __future__ import annotations

from pathlib import Path

import click

from form_service import migrate, privileges
from form_service.cli.common import load_settings
from form_service.db import check_engine, make_engine
from form_service.settings import IntakeSettings, Settings


@click.command()
def init() -> None:
    """Check the intake's settings, bring the database to the newest schema and check it."""
    settings = load_settings(IntakeSettings)
    migrate.upgrade(settings)
    check_engine(make_engine(settings))
    click.echo(f"Database ready at revision {', '.join(migrate.current_revisions(settings))}.")


@click.group()
def db() -> None:
    """Manage the database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    settings = load_settings(Settings)
    migrate.upgrade(settings, revision)
    click.echo(f"Database at revision {', '.join(migrate.current_revisions(settings))}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ("base" drops every table)."""
    settings = load_settings(Settings)
    migrate.downgrade(settings, revision)
    click.echo(f"Database at revision {', '.join(migrate.current_revisions(settings)) or 'base'}.")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one the code knows."""
    settings = load_settings(Settings)
    click.echo(f"current: {', '.join(migrate.current_revisions(settings)) or 'base'}")
    click.echo(f"newest:  {', '.join(migrate.head_revisions(settings))}")


PASSWORD_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@db.command("roles")
@click.option("--intake", "intake_role", default="form_intake", show_default=True)
@click.option("--desk", "desk_role", default="form_desk", show_default=True)
@click.option("--intake-password-file", type=PASSWORD_FILE, help="Set the intake's password.")
@click.option("--desk-password-file", type=PASSWORD_FILE, help="Set the desk's password.")
def db_roles(
    intake_role: str,
    desk_role: str,
    intake_password_file: Path | None,
    desk_password_file: Path | None,
) -> None:
    """Create the intake's and the desk's PostgreSQL roles and grant exactly their rights.

    Run with the owner's (migration role's) FORM_SERVICE_DATABASE_URL; idempotent. A
    password comes from a file (the Compose `migrate` job reads the ones `deploy init`
    wrote), never from the command line, and reaches PostgreSQL as a SCRAM verifier only.
    """
    settings = load_settings(Settings)
    if settings.is_sqlite:
        raise click.ClickException("SQLite has no roles: it is for single-user development")
    names = {"intake": intake_role, "desk": desk_role}
    passwords = {
        names[purpose]: path.read_text(encoding="utf-8").strip()
        for purpose, path in (("intake", intake_password_file), ("desk", desk_password_file))
        if path is not None
    }
    engine = make_engine(settings)
    try:
        with engine.begin() as connection:
            privileges.apply(connection, names)
            for role, password in passwords.items():
                privileges.set_password(connection, role, password)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    click.echo(f"Roles {intake_role} (intake) and {desk_role} (desk) have their rights.")


COMMANDS = (init, db)
