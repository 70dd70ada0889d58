"""The `form-service` command sets up keys, secrets and the database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from form_service import migrate
from form_service.cli import cli
from form_service.deskkey import read_public_key
from form_service.settings import Settings

PASSPHRASE = "violet harbour lantern sixteen"  # noqa: S105 - a test passphrase


def env_for(settings: Settings) -> dict[str, str]:
    """Return the environment that names these settings."""
    return {
        "FORM_SERVICE_SECRET_KEY": settings.secret_key,
        "FORM_SERVICE_RECEIPT_PEPPER": settings.receipt_pepper,
        "FORM_SERVICE_DESK_PUBLIC_KEY": settings.desk_public_key,
        "FORM_SERVICE_DATABASE_URL": settings.database_url,
    }


def test_keys_generate_writes_a_private_file_and_prints_the_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from form_service import deskkey

    # Keep the test quick: the command's own default is the stronger MODERATE cost.
    monkeypatch.setattr(deskkey, "MODERATE", deskkey.INTERACTIVE)
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    key_file = tmp_path / "keys" / "desk-key.json"
    result = CliRunner().invoke(
        cli,
        [
            "keys",
            "generate",
            "--private-key-file",
            str(key_file),
            "--passphrase-file",
            str(passphrase_file),
        ],
    )
    assert result.exit_code == 0, result.output
    public_key = read_public_key(key_file.read_bytes())
    assert f"FORM_SERVICE_DESK_PUBLIC_KEY={public_key}" in result.stdout
    assert key_file.stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(
        cli,
        [
            "keys",
            "generate",
            "--private-key-file",
            str(key_file),
            "--passphrase-file",
            str(passphrase_file),
        ],
    )
    assert again.exit_code != 0 and "refusing to overwrite" in again.output


def test_keys_generate_refuses_a_weak_passphrase(tmp_path: Path) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text("password1234")
    result = CliRunner().invoke(
        cli,
        [
            "keys",
            "generate",
            "--private-key-file",
            str(tmp_path / "k.json"),
            "--passphrase-file",
            str(passphrase_file),
        ],
    )
    assert result.exit_code != 0
    assert not (tmp_path / "k.json").exists()


def test_secrets_generate_prints_two_distinct_secrets() -> None:
    result = CliRunner().invoke(cli, ["secrets", "generate"])
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(lines) == {"FORM_SERVICE_SECRET_KEY", "FORM_SERVICE_RECEIPT_PEPPER"}
    assert lines["FORM_SERVICE_SECRET_KEY"] != lines["FORM_SERVICE_RECEIPT_PEPPER"]
    assert all(len(value) >= 32 for value in lines.values())


def test_init_and_db_commands_migrate_the_database(tmp_path: Path, settings: Settings) -> None:
    env = env_for(settings)
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "downgrade", "base"], env=env)
    assert result.exit_code == 0, result.output
    assert migrate.current_revisions(settings) == ()
    result = runner.invoke(cli, ["init"], env=env)
    assert result.exit_code == 0, result.output
    assert migrate.current_revisions(settings) == migrate.head_revisions(settings)
    result = runner.invoke(cli, ["db", "current"], env=env)
    assert "0001_intake" in result.output or "current:" in result.output


def test_a_missing_secret_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["init"], env={"FORM_SERVICE_SECRET_KEY": ""})
    assert result.exit_code != 0
    assert "missing required settings" in result.output


def test_dev_flag_uses_the_instance_that_make_run_creates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --dev writes the development settings into os.environ: give it a copy to spoil.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    instance = tmp_path / "instance"
    monkeypatch.setenv("FORM_SERVICE_INSTANCE_DIR", str(instance))
    for name in ("SECRET_KEY", "RECEIPT_PEPPER", "DESK_PUBLIC_KEY", "DATABASE_URL"):
        monkeypatch.delenv(f"FORM_SERVICE_{name}", raising=False)
    runner = CliRunner()
    without = runner.invoke(cli, ["staff", "list"])
    assert without.exit_code == 1
    assert "missing required settings" in without.output
    added = runner.invoke(
        cli,
        ["--dev", "staff", "add", "desk@example.org", "--role", "admin"],
        input="violet harbour lantern sixteen ferns\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["--dev", "staff", "list"])
    assert "desk@example.org" in listed.output
    assert (instance / "form_service.sqlite3").is_file()
