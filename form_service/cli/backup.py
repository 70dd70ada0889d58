"""`form-service backup create` and `backup restore`: the database and what reads it."""

from __future__ import annotations

import time
from pathlib import Path

import click

from form_service import backups

FOLDER = click.option(
    "--folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The deployment: the folder holding docker-compose.yml, .env and secrets/.",
)
COMPOSE = click.option(
    "--compose",
    "compose_command",
    default="docker compose",
    show_default=True,
    help="The Compose command, with any -p or -f options the deployment uses.",
)


@click.group()
def backup() -> None:
    """Back up the deployment's database and secrets, or restore them."""


@backup.command("create")
@click.option("--to", "destination", type=click.Path(path_type=Path), required=True)
@FOLDER
@COMPOSE
def backup_create(destination: Path, folder: Path, compose_command: str) -> None:
    """Dump the database and copy secrets/ and .env into a new folder (never the passphrase)."""
    started = time.monotonic()
    try:
        files = backups.create_backup(backups.Compose.parse(folder, compose_command), destination)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    size = sum(path.stat().st_size for path in files)
    seconds = time.monotonic() - started
    click.echo(f"Backup in {destination}: {len(files)} files, {size} bytes, {seconds:.1f} s.")
    click.echo(
        "It holds the encrypted desk key but not its passphrase: keep both, apart.", err=True
    )


@backup.command("restore")
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
)
@FOLDER
@COMPOSE
def backup_restore(source: Path, folder: Path, compose_command: str) -> None:
    """Put back missing secrets and load the database from a backup folder."""
    started = time.monotonic()
    try:
        restored = backups.restore_backup(backups.Compose.parse(folder, compose_command), source)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    for path in restored:
        click.echo(f"put back {path}", err=True)
    click.echo(f"Database restored from {source} in {time.monotonic() - started:.1f} s.")
    click.echo("Next: docker compose up -d (the desk needs its passphrase file).", err=True)


COMMANDS = (backup,)
