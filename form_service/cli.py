"""The `form-service` console command: set up the database, keys and secrets."""

from __future__ import annotations

import importlib
import importlib.util
import os
import secrets
from pathlib import Path

import click
from zxcvbn import zxcvbn

from form_service import migrate
from form_service.db import check_engine, make_engine
from form_service.settings import Settings, SettingsError

MIN_PASSPHRASE_SCORE = 3  # zxcvbn: "safely unguessable" against an offline attack
MIN_PASSPHRASE_LENGTH = 12


def load_settings() -> Settings:
    """Read settings from the environment, as a command-line error if they are wrong."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.group()
@click.option(
    "--dev",
    is_flag=True,
    help="Use the development instance that `make run` creates (instance/), not FORM_SERVICE_*.",
)
def cli(dev: bool) -> None:
    """Run the tip service's maintenance commands."""
    if dev:
        # Imported only here: the development server is no part of a production command.
        from form_service.devserver import default_instance_dir, development_environment

        port = int(os.environ.get("PORT", "8000"))
        os.environ.update(development_environment(default_instance_dir(), port))
        migrate.upgrade(load_settings())


@cli.command()
def init() -> None:
    """Check the settings, bring the database to the newest schema and check it."""
    settings = load_settings()
    migrate.upgrade(settings)
    check_engine(make_engine(settings))
    click.echo(f"Database ready at revision {', '.join(migrate.current_revisions(settings))}.")


@cli.group()
def db() -> None:
    """Manage the database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    settings = load_settings()
    migrate.upgrade(settings, revision)
    click.echo(f"Database at revision {', '.join(migrate.current_revisions(settings))}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ("base" drops every table)."""
    settings = load_settings()
    migrate.downgrade(settings, revision)
    click.echo(f"Database at revision {', '.join(migrate.current_revisions(settings)) or 'base'}.")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one the code knows."""
    settings = load_settings()
    click.echo(f"current: {', '.join(migrate.current_revisions(settings)) or 'base'}")
    click.echo(f"newest:  {', '.join(migrate.head_revisions(settings))}")


@cli.group()
def keys() -> None:
    """Manage the desk's key pair."""


@keys.command("generate")
@click.option(
    "--private-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the encrypted private key (never on the intake server).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the passphrase from this file instead of asking for it.",
)
def keys_generate(private_key_file: Path, passphrase_file: Path | None) -> None:
    """Create the desk key pair; print the public key for the intake's configuration."""
    from form_service import deskkey  # only this command needs the key-file code

    if passphrase_file is not None:
        passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        passphrase = click.prompt("Passphrase", hide_input=True, confirmation_prompt=True)
    check_passphrase(passphrase)
    public_key, key_file = deskkey.generate_key_pair(passphrase, deskkey.MODERATE)
    write_private_file(private_key_file, key_file)
    click.echo(f"Encrypted private key written to {private_key_file}.", err=True)
    click.echo("Put this line in the intake's environment:", err=True)
    click.echo(f"FORM_SERVICE_DESK_PUBLIC_KEY={public_key}")


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase that an offline attack on a stolen key file could guess."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise click.ClickException(
            f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters"
        )
    # zxcvbn is slow on very long input and gains nothing from it.
    if zxcvbn(passphrase[:100])["score"] < MIN_PASSPHRASE_SCORE:
        raise click.ClickException("the passphrase is too easy to guess; use several words")


def write_private_file(path: Path, content: bytes) -> None:
    """Write a new file readable by its owner only; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{path} exists; refusing to overwrite a key") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


@cli.group(name="secrets")
def secrets_group() -> None:
    """Make the service's secrets."""


@secrets_group.command("generate")
def secrets_generate() -> None:
    """Print a new secret key and receipt pepper as environment lines."""
    click.echo(f"FORM_SERVICE_SECRET_KEY={secrets.token_urlsafe(48)}")
    click.echo(f"FORM_SERVICE_RECEIPT_PEPPER={secrets.token_urlsafe(48)}")


def main() -> None:
    """Run the console command (with the review desk's commands when it is installed)."""
    # The desk adds its commands (staff add, purge, export) by importing `cli` and
    # decorating; it lives in its own module so the intake never imports it.
    if (
        importlib.util.find_spec("form_service.review") is not None
        and importlib.util.find_spec("form_service.review.cli") is not None
    ):
        importlib.import_module("form_service.review.cli")
    cli(prog_name="form-service")


if __name__ == "__main__":
    main()
