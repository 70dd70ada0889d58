"""`form-service spool ...`: move the intake's spooled tips into the database in batches."""

from __future__ import annotations

import click

from form_service.cli.common import load_settings
from form_service.db import make_engine
from form_service.intake import spool as spooler
from form_service.settings import Settings


@click.group()
def spool() -> None:
    """Store the tips the intake spooled (one transaction per batch, at fixed times)."""


@spool.command("flush")
def spool_flush() -> None:
    """Store everything spooled now, in one transaction, then delete the files."""
    settings = load_settings(Settings)
    engine = make_engine(settings)
    try:
        flushed = spooler.flush(settings.spool_path, engine)
    finally:
        engine.dispose()
    click.echo(f"Stored {flushed.records} spooled records.")
    if flushed.refused:
        folder = settings.spool_path / spooler.REFUSED
        click.echo(f"Set aside {flushed.refused} files that are not records in {folder}.")


@spool.command("run")
def spool_run() -> None:
    """Flush at every batch time (FORM_SERVICE_BATCH_MINUTES from 00:00 UTC), forever."""
    settings = load_settings(Settings)
    engine = make_engine(settings)
    click.echo(f"Flushing {settings.spool_path} every {settings.batch_minutes} minutes.")
    try:
        spooler.run(settings.spool_path, engine, settings.batch_minutes)
    finally:
        engine.dispose()


@spool.command("status")
def spool_status() -> None:
    """Say how many records wait in the spool (never which, or since when)."""
    settings = load_settings(Settings)
    count = len(spooler.waiting(settings.spool_path))
    click.echo(f"{count} records wait in {settings.spool_path}.")
    refused = len(spooler.refused(settings.spool_path))
    if refused:
        folder = settings.spool_path / spooler.REFUSED
        click.echo(f"{refused} refused files wait for the operator in {folder}.")


COMMANDS = [spool]
