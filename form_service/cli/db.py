"""`form-service init` and `form-service db ...`: the database schema (Alembic)."""

from __future__ import annotations

import click

from form_service import migrate
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


COMMANDS = (init, db)
