"""The development instance behind `make run` and `form-service --dev` (cli/dev.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from form_service import migrate
from form_service.cli import cli, dev
from form_service.deskkey import unlock_private_key


def test_first_start_creates_dev_secrets_keys_and_database(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    settings = dev.bootstrap(instance, 8123)
    assert settings.environment == "development"
    assert migrate.current_revisions(settings) == migrate.head_revisions(settings)
    for name in (dev.DEV_SECRETS_FILE, dev.DEV_KEY_FILE, dev.DEV_PASSPHRASE_FILE):
        assert (instance / name).stat().st_mode & 0o077 == 0
    passphrase = (instance / dev.DEV_PASSPHRASE_FILE).read_text().strip()
    key = unlock_private_key((instance / dev.DEV_KEY_FILE).read_bytes(), passphrase)
    assert json.loads((instance / dev.DEV_KEY_FILE).read_text())["public_key"] == (
        settings.desk_public_key
    )
    assert key is not None
    # A second start reuses everything.
    again = dev.bootstrap(instance, 8123)
    assert again.secret_key == settings.secret_key
    assert again.desk_public_key == settings.desk_public_key


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
