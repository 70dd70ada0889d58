"""Every command reads its settings from the environment and refuses clearly when one is wrong."""

from __future__ import annotations

from click.testing import CliRunner

from form_service.cli import cli


def test_a_missing_secret_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["init"], env={"FORM_SERVICE_SECRET_KEY": ""})
    assert result.exit_code != 0
    assert "missing required settings" in result.output
