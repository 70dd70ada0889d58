"""`form-service purge` and `form-service audit verify`: the desk's retention and audit log."""

from __future__ import annotations

import click

from form_service.cli.common import CLI_ACTOR, database, load_settings
from form_service.clock import utc_today
from form_service.review import audit, retention
from form_service.settings import ReviewSettings


@click.command("purge")
def purge() -> None:
    """Delete tips closed more than FORM_SERVICE_RETENTION_DAYS ago (run daily from a timer)."""
    settings = load_settings(ReviewSettings)
    days = settings.retention_days
    with database(settings) as db:
        count = retention.purge_closed_tips(db, days, utc_today(), CLI_ACTOR)
    click.echo(f"Deleted {count} tip(s) closed more than {days} days ago.")


@click.group("audit")
def audit_group() -> None:
    """Check the audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; name the first broken entry and exit 1 if there is one."""
    with database(load_settings(ReviewSettings)) as db:
        broken = audit.first_broken_entry(db)
        if broken is not None:
            raise click.ClickException(f"The audit chain is broken at entry {broken}.")
        click.echo(f"The audit chain is intact. Head: {audit.head_hash(db)}")


COMMANDS = (purge, audit_group)
