"""The `form-service` console command: database, keys, secrets, staff, retention, audit, notices.

Each module below defines its commands and lists them in COMMANDS; this package only puts
them under one group. Imports flow one way: the CLI uses the core and both apps' domain
code, and nothing imports the CLI.
"""

from __future__ import annotations

import os

import click

from form_service.cli import backup, db, deploy, desk, keys, notify, spool, staff


@click.group()
@click.option(
    "--dev",
    is_flag=True,
    help="Use the development instance that `make run` creates (instance/), not FORM_SERVICE_*.",
)
def cli(dev: bool) -> None:
    """Run the tip service's maintenance commands."""
    if dev:
        # Imported only here: a production command never builds a development instance.
        from form_service.cli.dev import bootstrap, default_instance_dir, development_environment

        port = int(os.environ.get("PORT", "8000"))
        os.environ.update(development_environment(default_instance_dir(), port))
        bootstrap(default_instance_dir(), port)


for _module in (db, keys, staff, desk, notify, deploy, backup, spool):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Run the console command."""
    cli(prog_name="form-service")


if __name__ == "__main__":
    main()
