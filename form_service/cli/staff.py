"""`form-service staff ...`: desk accounts (there is no default account)."""

from __future__ import annotations

import sys

import click

from form_service.cli.common import CLI_ACTOR, database, load_settings
from form_service.models import StaffRole
from form_service.review.auth import accounts
from form_service.settings import ReviewSettings


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
    with database(load_settings(ReviewSettings)) as db:
        try:
            staff = accounts.add_staff(db, email, StaffRole(role), read_password(), CLI_ACTOR)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        code = accounts.issue_enrolment_code(db, staff, CLI_ACTOR)
        db.commit()
        click.echo(
            f"Added {staff.email} ({staff.role}); they enrol an authenticator at first sign-in."
        )
        _tell_code(code)


@staff_group.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Disable an account and end its sessions."""
    _change(accounts.disable_staff, email, "Disabled")


@staff_group.command("enable")
@click.argument("email")
def staff_enable(email: str) -> None:
    """Let a disabled account sign in again."""
    _change(accounts.enable_staff, email, "Enabled")


@staff_group.command("role")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in StaffRole]), required=True)
def staff_role(email: str, role: str) -> None:
    """Give an account another role (the last active admin keeps theirs)."""
    _change(
        lambda db, address, actor: accounts.change_role(db, address, StaffRole(role), actor),
        email,
        f"Made {role}:",
    )


@staff_group.command("reset-2fa")
@click.argument("email")
def staff_reset_2fa(email: str) -> None:
    """Forget an account's authenticator; it enrols again (with a new code) at next sign-in."""
    _change(accounts.reset_second_factor, email, "Reset the second factor of")
    _new_code(email)


@staff_group.command("enrolment-code")
@click.argument("email")
def staff_enrolment_code(email: str) -> None:
    """Give an account still without an authenticator a new enrolment code (the old one dies)."""
    _new_code(email)


def _new_code(email: str) -> None:
    """Issue and print a new enrolment code for one account."""
    with database(load_settings(ReviewSettings)) as db:
        try:
            code = accounts.issue_enrolment_code(db, accounts.existing_staff(db, email), CLI_ACTOR)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        db.commit()
    _tell_code(code)


def _tell_code(code: str) -> None:
    """Print an enrolment code with what to do with it."""
    click.echo(f"Enrolment code (give it to them in person; it works once): {code}")


def _change(action: accounts.Change, email: str, done: str) -> None:
    """Apply one account change and report it."""
    with database(load_settings(ReviewSettings)) as db:
        try:
            staff = action(db, email, CLI_ACTOR)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        db.commit()
        click.echo(f"{done} {staff.email}.")


@staff_group.command("list")
def staff_list() -> None:
    """List accounts: address, role, second factor, state."""
    with database(load_settings(ReviewSettings)) as db:
        for staff in accounts.list_staff(db):
            factor = "2fa" if staff.totp_confirmed else "no-2fa-yet"
            state = "disabled" if staff.disabled else "active"
            click.echo(f"{staff.email}\t{staff.role}\t{factor}\t{state}")


COMMANDS = (staff_group,)
