"""`form-service notify`: send staff this period's content-free notice (run from a timer)."""

from __future__ import annotations

import click

from form_service import notify as notices
from form_service.cli.common import database, load_settings
from form_service.clock import SYSTEM_CLOCK
from form_service.settings import ReviewSettings

MESSAGES = {
    notices.Outcome.OFF: "Notifications are off: FORM_SERVICE_NOTIFY_SMTP_HOST is not set.",
    notices.Outcome.NOT_DUE: "This period's notice has already been sent.",
    notices.Outcome.NOTHING_NEW: "Nothing arrived since the last notice; none sent.",
    notices.Outcome.SENT: "Notice sent.",
}


@click.command("notify")
def notify() -> None:
    """Send at most one notice per period; exit 1 (and try again next run) if sending fails."""
    settings = load_settings(ReviewSettings)
    with database(settings) as db:
        outcome = notices.run(db, settings, SYSTEM_CLOCK)
    if outcome == notices.Outcome.FAILED:
        raise click.ClickException(
            "The notice could not be sent (the log says why); the next run tries again."
        )
    click.echo(MESSAGES[outcome])


COMMANDS = (notify,)
