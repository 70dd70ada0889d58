"""Fixtures of the command-line tests (review_settings and db come from the parent conftest)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from form_service.cli import desk as desk_commands
from form_service.cli import notify as notify_commands
from form_service.cli import staff as staff_commands
from form_service.settings import ReviewSettings


@pytest.fixture
def run(review_settings: ReviewSettings) -> object:
    """Return a function that runs a desk command against the test database."""
    group = click.Group("form-service")
    for command in (*staff_commands.COMMANDS, *desk_commands.COMMANDS, *notify_commands.COMMANDS):
        group.add_command(command)
    env = {
        "FORM_SERVICE_REVIEW_SECRET_KEY": review_settings.secret_key,
        "FORM_SERVICE_DATABASE_URL": review_settings.database_url,
        "FORM_SERVICE_RETENTION_DAYS": "30",
    }

    def invoke(
        *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
    ) -> click.testing.Result:
        return CliRunner().invoke(group, list(args), input=stdin, env={**env, **(extra_env or {})})

    return invoke
