"""`form-service deploy init`: write a new Compose deployment next to docker-compose.yml."""

from __future__ import annotations

from pathlib import Path

import click

from form_service import deploy, deskkey


@click.group(name="deploy")
def deploy_group() -> None:
    """Prepare a Docker Compose deployment."""


@deploy_group.command("init")
@click.option("--site-host", required=True, help="Public name of the site, e.g. tips.example.org.")
@click.option("--desk-host", required=True, help="Name staff use for the desk.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder holding docker-compose.yml; secrets/ and .env are written there.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the desk key's passphrase here, on another disk or mount than the key. "
    "Without it the passphrase is printed once and never stored.",
)
@click.option(
    "--desk-address",
    default="127.0.0.1",
    show_default=True,
    help="Address the desk's port is published on (a VPN or office address).",
)
def deploy_init(
    site_host: str, desk_host: str, folder: Path, passphrase_file: Path | None, desk_address: str
) -> None:
    """Write secrets/, the desk key pair, env files, a placeholder certificate and .env."""
    plan = deploy.Plan(
        folder, site_host, desk_host, passphrase_file, desk_address, deskkey.MODERATE
    )
    try:
        report = deploy.init_deployment(plan)
    except deploy.DeployError as error:
        raise click.ClickException(str(error)) from None
    for path in report.written:
        click.echo(f"wrote {path}", err=True)
    for path in report.kept:
        click.echo(f"kept  {path} (exists; never overwritten)", err=True)
    if report.passphrase is not None:
        click.echo(
            "The desk key's passphrase, shown this once and stored nowhere. Keep it apart from "
            "the key (a password manager, a sealed envelope); without it no tip can be read:",
            err=True,
        )
        click.echo(report.passphrase)
        click.echo(
            "Before starting, write it to a file on another mount and set "
            "DESK_PASSPHRASE_FILE=<that path> in .env.",
            err=True,
        )
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if report.owners:
        click.echo("Run as root to hand these files to the containers' users:", err=True)
        for path, uid in report.owners.items():
            click.echo(f"  chown {uid} {path}", err=True)
    click.echo(
        "The certificate in secrets/tls/ is a self-signed PLACEHOLDER: replace fullchain.pem "
        "and privkey.pem (ECDSA), rsa-fullchain.pem and rsa-privkey.pem with real ones before "
        "going public.",
        err=True,
    )
    click.echo("Next: docker compose up -d --build", err=True)
    click.echo(
        "Then: docker compose run --rm review form-service staff add --role admin you@example.org",
        err=True,
    )


COMMANDS = (deploy_group,)
