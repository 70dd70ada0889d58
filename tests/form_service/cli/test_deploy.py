"""`form-service deploy init`: one command writes a deployment and says what to run next."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from form_service import deskkey
from form_service.cli import cli
from form_service.deploy import read_env


@pytest.fixture(autouse=True)
def quick_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the tests quick: the command's own cost is the stronger MODERATE one."""
    monkeypatch.setattr(deskkey, "MODERATE", deskkey.INTERACTIVE)


def init(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    """Run deploy init for an office folder under tmp_path; return code, stdout, stderr."""
    args = ["deploy", "init", "--site-host", "tips.example.org", "--desk-host", "desk.example.org"]
    result = CliRunner().invoke(cli, [*args, "--folder", str(tmp_path / "office"), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_the_deployment_and_prints_the_next_command(tmp_path: Path) -> None:
    passphrase = tmp_path / "offline" / "desk-passphrase"
    code, stdout, stderr = init(tmp_path, "--passphrase-file", str(passphrase))
    assert code == 0, stderr
    assert stdout == ""  # nothing secret on standard output when the passphrase has a file
    assert "Next: docker compose up -d --build" in stderr
    assert "staff add --role admin" in stderr
    assert "PLACEHOLDER" in stderr
    env = read_env(tmp_path / "office" / ".env")
    assert env["SITE_HOST"] == "tips.example.org"
    assert env["DESK_PASSPHRASE_FILE"] == str(passphrase.resolve())


def test_without_a_passphrase_file_the_passphrase_is_printed_once(tmp_path: Path) -> None:
    code, stdout, stderr = init(tmp_path)
    assert code == 0, stderr
    passphrase = stdout.strip()
    assert len(passphrase) >= 32 and "\n" not in passphrase
    key = (tmp_path / "office" / "secrets" / "desk-key.json").read_bytes()
    deskkey.unlock_private_key(key, passphrase)
    assert "DESK_PASSPHRASE_FILE" in stderr
    # A second run keeps the key and so has no passphrase to show.
    code, stdout, stderr = init(tmp_path)
    assert code == 0 and stdout == ""
    assert "kept" in stderr and "desk-key.json" in stderr


def test_a_passphrase_file_beside_the_key_is_refused(tmp_path: Path) -> None:
    code, _, stderr = init(tmp_path, "--passphrase-file", str(tmp_path / "office" / "pass"))
    assert code == 1
    assert "apart from the key" in stderr
