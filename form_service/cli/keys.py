"""`form-service keys generate|audit-key` and `form-service secrets generate`: the secrets."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from zxcvbn import zxcvbn

from form_service import deskkey
from form_service.files import FileExists, write_private

MIN_PASSPHRASE_SCORE = 3  # zxcvbn: "safely unguessable" against an offline attack
MIN_PASSPHRASE_LENGTH = 12


@click.group()
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
    if passphrase_file is not None:
        passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        passphrase = click.prompt("Passphrase", hide_input=True, confirmation_prompt=True)
    check_passphrase(passphrase)
    public_key, key_file = deskkey.generate_key_pair(passphrase, deskkey.MODERATE)
    try:
        write_private(private_key_file, key_file)
    except FileExists:
        raise click.ClickException(
            f"{private_key_file} exists; refusing to overwrite a key"
        ) from None
    click.echo(f"Encrypted private key written to {private_key_file}.", err=True)
    click.echo("Put this line in the intake's environment:", err=True)
    click.echo(f"FORM_SERVICE_DESK_PUBLIC_KEY={public_key}")


@keys.command("audit-key")
@click.option(
    "--file",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the audit key (read by the desk; never in the database).",
)
def keys_audit_key(key_file: Path) -> None:
    """Create the key of the audit chain's HMACs (FORM_SERVICE_AUDIT_KEY_FILE)."""
    try:
        write_private(key_file, secrets.token_urlsafe(48).encode("ascii"))
    except FileExists:
        raise click.ClickException(f"{key_file} exists; refusing to overwrite a key") from None
    click.echo(f"Audit key written to {key_file}: set FORM_SERVICE_AUDIT_KEY_FILE to it.", err=True)


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase that an offline attack on a stolen key file could guess."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise click.ClickException(
            f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters"
        )
    # zxcvbn is slow on very long input and gains nothing from it.
    if zxcvbn(passphrase[:100])["score"] < MIN_PASSPHRASE_SCORE:
        raise click.ClickException("the passphrase is too easy to guess; use several words")


@click.group(name="secrets")
def secrets_group() -> None:
    """Make the service's secrets."""


@secrets_group.command("generate")
def secrets_generate() -> None:
    """Print a new intake secret key and receipt pepper as environment lines."""
    click.echo(f"FORM_SERVICE_SECRET_KEY={secrets.token_urlsafe(48)}")
    click.echo(f"FORM_SERVICE_RECEIPT_PEPPER={secrets.token_urlsafe(48)}")


COMMANDS = (keys, secrets_group)
