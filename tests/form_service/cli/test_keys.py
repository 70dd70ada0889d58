"""`form-service keys generate` and `form-service secrets generate`: the service's secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from form_service.cli import cli
from form_service.deskkey import read_public_key

PASSPHRASE = "violet harbour lantern sixteen"  # noqa: S105 - a test passphrase


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
