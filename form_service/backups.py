"""Back up a Compose deployment and restore it: the database and what it takes to read it.

A backup folder holds the database (`pg_dump --format=custom`, taken inside the `db`
container), a copy of `secrets/` (the encrypted desk key, the receipt pepper, the env files)
and `.env`, and a manifest of SHA-256 sums. It never holds the desk key's passphrase: that
lives outside the deployment, and a backup without it cannot open a single tip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from form_service.deploy import DATABASE, ROLES
from form_service.files import PRIVATE_MODE, write_private

DUMP = "database.dump"
MANIFEST = "manifest.json"
OWNER = ROLES["owner"][0]
READY_ATTEMPTS = 120  # one a second


class BackupError(RuntimeError):
    """A backup or restore could not be done; nothing was changed that the message omits."""


@dataclass(frozen=True)
class Compose:
    """How to run `docker compose` for one deployment (its folder, and any -p / -f options)."""

    folder: Path
    command: tuple[str, ...] = ("docker", "compose")

    @classmethod
    def parse(cls, folder: Path, command: str) -> Compose:
        """Return the Compose command given as one shell-quoted string."""
        return cls(folder, tuple(shlex.split(command)))

    def run(
        self, *args: str, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        """Run a Compose command in the deployment's folder; raise BackupError if it fails."""
        done = self._run(args, stdin, stdout)
        if done.returncode != 0:
            raise BackupError(f"{shlex.join(args[:3])} failed: {done.stderr.decode()[-2000:]}")

    def succeeds(self, *args: str) -> bool:
        """Tell whether a Compose command exits 0."""
        return self._run(args, None, None).returncode == 0

    def _run(
        self, args: tuple[str, ...], stdin: BinaryIO | None, stdout: BinaryIO | None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `docker compose` with args in the deployment's folder."""
        return subprocess.run(  # noqa: S603 - the operator's own Compose command
            [*self.command, *args],
            cwd=self.folder,
            stdin=stdin or subprocess.DEVNULL,
            stdout=stdout or subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )


def create_backup(compose: Compose, destination: Path) -> list[Path]:
    """Dump the database and copy secrets/ and .env into a new folder; return its files."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty; a backup never replaces another")
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    dump = destination / DUMP
    # Owner-only before the first byte arrives; flushed to disk before the backup is done.
    with os.fdopen(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE), "wb") as out:
        # Inside the db container: its own pg_dump, over the local socket, as the owner.
        dump_command = ("pg_dump", "--format=custom", "--no-acl", "-U", OWNER, "-d", DATABASE)
        compose.run("exec", "-T", "db", *dump_command, stdout=out)
        os.fsync(out.fileno())
    copied, owners = [dump], {}
    for source in sorted(_deployment_files(compose.folder)):
        relative = str(source.relative_to(compose.folder))
        write_private(destination / relative, source.read_bytes())
        copied.append(destination / relative)
        owners[relative] = source.stat().st_uid
    sums = {str(path.relative_to(destination)): _sha256(path) for path in copied}
    manifest = {"files": sums, "owners": owners}
    write_private(destination / MANIFEST, json.dumps(manifest, indent=2).encode())
    return copied


def restore_backup(compose: Compose, source: Path) -> list[Path]:
    """Put back the secrets that are missing, then load the dump; return the files put back."""
    sums, owners = verified(source)
    put_back = []
    for name in sums:
        if name == DUMP:
            continue
        target, saved = compose.folder / name, (source / name).read_bytes()
        if target.exists():
            if target.read_bytes() != saved:
                raise BackupError(
                    f"{target} differs from the backup's copy; move it aside to restore it"
                )
            continue
        write_private(target, saved)
        put_back.append(target)
        if os.geteuid() == 0:
            # Back to the container user that reads it, as `deploy init` left it.
            os.chown(target, owners.get(name, 0), -1)
    compose.run("up", "--detach", "--wait", "db")
    wait_for_database(compose)
    # One transaction: a failed restore leaves the database as it was.
    restore_command = ["pg_restore", "--single-transaction", "--exit-on-error", "--no-acl"]
    restore_command += ["--clean", "--if-exists", "-U", OWNER, "-d", DATABASE]
    with (source / DUMP).open("rb") as dump:
        compose.run("exec", "-T", "db", *restore_command, stdin=dump)
    return put_back


def wait_for_database(compose: Compose, attempts: int = READY_ATTEMPTS) -> None:
    """Wait until PostgreSQL takes connections over the network, not only on its socket.

    On its first start the image creates the database with a server that listens on the
    socket only, and `pg_isready` there (the healthcheck) already answers yes; the database
    may not exist yet. The network listener opens only once that is done.
    """
    probe = ("exec", "-T", "db", "pg_isready", "-q", "-h", "127.0.0.1", "-U", OWNER)
    for _ in range(attempts):
        if compose.succeeds(*probe, "-d", DATABASE):
            return
        time.sleep(1)
    raise BackupError(f"the database did not take connections within {attempts} s")


def verified(source: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Return the backup's sums and owners after checking every file against its sum."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
        sums: dict[str, str] = manifest["files"]
        owners: dict[str, int] = manifest.get("owners", {})
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {error}") from None
    for name, expected in sums.items():
        path = source / name
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"{path} is missing or damaged (its SHA-256 sum differs)")
    return sums, owners


def _deployment_files(folder: Path) -> list[Path]:
    """Return .env and every file under secrets/."""
    files = [path for path in (folder / "secrets").rglob("*") if path.is_file()]
    return [*files, folder / ".env"] if (folder / ".env").is_file() else files


def _sha256(path: Path) -> str:
    """Return a file's SHA-256 in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
