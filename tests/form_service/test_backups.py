"""Backup folders are checked before anything is restored; the database part runs in
tests/compose/test_backup.py against the real stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from form_service.backups import BackupError, Compose, create_backup, restore_backup, verified
from form_service.files import write_private

# A command that fails if it is ever reached: these checks must stop before Compose runs.
NEVER = ("false",)


def backup_folder(tmp_path: Path) -> Path:
    """Write a small backup folder by hand: a dump, one secret, and their manifest."""
    folder = tmp_path / "backup"
    write_private(folder / "database.dump", b"PGDMP fake")
    write_private(folder / "secrets" / "desk-key.json", b"{}\n")
    sums = {
        "database.dump": "481b29b1416a905e80e3d151ada2f79932e095a92ce61e37c58ccc3a7ebede67",
        "secrets/desk-key.json": "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356",
    }
    write_private(folder / "manifest.json", json.dumps({"files": sums}).encode())
    return folder


def test_an_intact_backup_is_verified(tmp_path: Path) -> None:
    sums, owners = verified(backup_folder(tmp_path))
    assert set(sums) == {"database.dump", "secrets/desk-key.json"} and owners == {}


def test_a_damaged_file_is_found_before_anything_is_restored(tmp_path: Path) -> None:
    folder = backup_folder(tmp_path)
    (folder / "database.dump").write_bytes(b"PGDMP fakE")
    deployment = tmp_path / "office"
    deployment.mkdir()
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(Compose(deployment, NEVER), folder)
    assert not (deployment / "secrets").exists()


def test_a_folder_without_a_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackupError, match="no readable"):
        verified(tmp_path / "empty")


def test_a_restore_never_replaces_a_different_secret(tmp_path: Path) -> None:
    folder = backup_folder(tmp_path)
    deployment = tmp_path / "office"
    write_private(deployment / "secrets" / "desk-key.json", b"another office's key\n")
    with pytest.raises(BackupError, match="differs from the backup"):
        restore_backup(Compose(deployment, NEVER), folder)
    assert (deployment / "secrets" / "desk-key.json").read_bytes() == b"another office's key\n"


def test_a_backup_never_goes_into_a_folder_that_holds_files(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "database.dump").write_bytes(b"last week")
    with pytest.raises(BackupError, match="not empty"):
        create_backup(Compose(tmp_path, NEVER), tmp_path / "old")
    assert (tmp_path / "old" / "database.dump").read_bytes() == b"last week"
