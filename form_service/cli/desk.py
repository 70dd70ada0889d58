"""`form-service purge` and `form-service audit ...`: the desk's retention and audit log."""

from __future__ import annotations

import click

from form_service.cli.common import CLI_ACTOR, database, load_settings
from form_service.clock import SYSTEM_CLOCK, utc_today
from form_service.review import audit, auditkeep, retention
from form_service.settings import ReviewSettings


@click.command("purge")
def purge() -> None:
    """Delete tips closed more than FORM_SERVICE_RETENTION_DAYS ago (run daily from a timer)."""
    settings = load_settings(ReviewSettings)
    days = settings.retention_days
    with database(settings) as db:
        count = retention.purge_closed_tips(
            db, days, utc_today(), CLI_ACTOR, lambda note: click.echo(f"Warning: {note}", err=True)
        )
    click.echo(f"Deleted {count} tip(s) closed more than {days} days ago.")


@click.group("audit")
def audit_group() -> None:
    """Check the audit log."""


@audit_group.command("verify")
@click.option(
    "--expect",
    "expected",
    metavar="HEAD",
    help="A head noted earlier (a checkpoint): fail unless the chain still holds it.",
)
def audit_verify(expected: str | None) -> None:
    """Walk the keyed chain; name the first broken entry and exit 1 if there is one."""
    settings = load_settings(ReviewSettings)
    with database(settings) as db:
        broken = audit.first_broken_entry(db)
        if broken is not None:
            raise click.ClickException(f"The audit chain is broken at entry {broken}.")
        if expected is not None and not audit.holds_head(db, expected.strip()):
            raise click.ClickException(
                "The audit chain no longer holds the expected head: entries after it were "
                "removed or re-linked (or it is older than the last prune's anchor)."
            )
        if audit.session_key(db) is None:
            click.echo("No FORM_SERVICE_AUDIT_KEY_FILE: the links are unkeyed.", err=True)
        count = audit.entry_count(db)
        click.echo(f"The audit chain is intact. Entries: {count}. Head: {audit.head_hash(db)}")


@audit_group.command("prune")
def audit_prune() -> None:
    """Delete entries older than FORM_SERVICE_AUDIT_RETENTION_DAYS, under a keyed anchor."""
    settings = load_settings(ReviewSettings)
    with database(settings) as db:
        try:
            count = auditkeep.prune(db, settings.audit_retention_days, SYSTEM_CLOCK, CLI_ACTOR)
        except auditkeep.AuditKeepError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Pruned {count} audit entries older than {settings.audit_retention_days} days.")


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Send the head and count off the host (FORM_SERVICE_AUDIT_CHECKPOINT_TO); run daily."""
    settings = load_settings(ReviewSettings)
    with database(settings) as db:
        try:
            checkpoint = auditkeep.take_checkpoint(db, SYSTEM_CLOCK)
            where = auditkeep.send_checkpoint(settings, checkpoint)
        except auditkeep.AuditKeepError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{checkpoint.line()} -> {where}")


COMMANDS = (purge, audit_group)
