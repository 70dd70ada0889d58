"""Desk commands for `form-service`: staff accounts, retention purge and audit verification.

The shared CLI registers them with one line: `form_service.review.cli.register(cli)`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session

from form_service import audit
from form_service.cli import load_settings
from form_service.db import make_engine, make_session_factory
from form_service.review import accounts, retention
from form_service.review.settings import retention_days_from_env
from form_service.staff import StaffRole

CLI_ACTOR = "cli"


@contextmanager
def database() -> Iterator[Session]:
    """Open a session on the database named by the environment, and close it after."""
    engine = make_engine(load_settings())
    try:
        with make_session_factory(engine)() as db:
            yield db
    finally:
        engine.dispose()


def read_password() -> str:
    """Read a new password from standard input (piped) or a hidden prompt typed twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("staff")
def staff_group() -> None:
    """Manage desk accounts (there is no default account)."""


@staff_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in StaffRole]), required=True)
def staff_add(email: str, role: str) -> None:
    """Create an account; the password comes from standard input or a prompt."""
    with database() as db:
        try:
            staff = accounts.add_staff(db, email, StaffRole(role), read_password(), CLI_ACTOR)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        db.commit()
        click.echo(
            f"Added {staff.email} ({staff.role}); they enrol an authenticator at first sign-in."
        )


@staff_group.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Disable an account and end its sessions."""
    _change(accounts.disable_staff, email, "Disabled")


@staff_group.command("reset-2fa")
@click.argument("email")
def staff_reset_2fa(email: str) -> None:
    """Forget an account's authenticator; it enrols again at the next sign-in."""
    _change(accounts.reset_second_factor, email, "Reset the second factor of")


def _change(action: accounts.Change, email: str, done: str) -> None:
    """Apply one account change and report it."""
    with database() as db:
        try:
            staff = action(db, email, CLI_ACTOR)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        db.commit()
        click.echo(f"{done} {staff.email}.")


@staff_group.command("list")
def staff_list() -> None:
    """List accounts: address, role, second factor, state."""
    with database() as db:
        for staff in accounts.list_staff(db):
            factor = "2fa" if staff.totp_confirmed else "no-2fa-yet"
            state = "disabled" if staff.disabled else "active"
            click.echo(f"{staff.email}\t{staff.role}\t{factor}\t{state}")


@click.command("purge")
def purge() -> None:
    """Delete tips closed more than FORM_SERVICE_RETENTION_DAYS ago (run daily from a timer)."""
    days = retention_days_from_env()
    with database() as db:
        count = retention.purge_closed_tips(db, days, datetime.now(UTC).date(), CLI_ACTOR)
    click.echo(f"Deleted {count} tip(s) closed more than {days} days ago.")


@click.group("audit")
def audit_group() -> None:
    """Check the audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; name the first broken entry and exit 1 if there is one."""
    with database() as db:
        broken = audit.first_broken_entry(db)
        if broken is not None:
            raise click.ClickException(f"The audit chain is broken at entry {broken}.")
        click.echo(f"The audit chain is intact. Head: {audit.head_hash(db)}")


def register(cli: click.Group) -> None:
    """Add the desk's commands to the shared `form-service` click group."""
    cli.add_command(staff_group)
    cli.add_command(purge)
    cli.add_command(audit_group)


def _register_with_shared_cli() -> None:
    """Hook into `form-service`: its main() imports this module when the desk is installed."""
    from form_service.cli import cli

    if "staff" not in cli.commands:
        register(cli)


_register_with_shared_cli()
