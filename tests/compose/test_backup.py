"""A backup of a stack with tips restores into a fresh stack, whose desk reads them.

The fresh stack runs beside the CI stack under its own project name and ports, from a
deployment folder that holds nothing but what the restore puts back: exactly what an office
has after losing its machine (the backup, and the passphrase kept elsewhere).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

from tests.compose.journey import flush_spool, send_tip, signed_in_desk, tips_found
from tools.docker import compose_stack
from tools.docker.compose_stack import ROOT, Stack

RESTORE_PORTS = (19180, 19543, 19544)


def form_service(stack: Stack, *args: str) -> tuple[str, float]:
    """Run a `form-service` command on the host against a stack; return its output and time."""
    compose = shlex.join(compose_stack.compose_command(stack))
    started = time.monotonic()
    # `backup restore` starts the fresh stack's database: new networks and a container.
    changes = compose_stack.host_network_change() if "restore" in args else nullcontext()
    with changes:
        done = subprocess.run(
            [sys.executable, "-m", "form_service.cli", *args, "--compose", compose],
            cwd=ROOT,
            env={**compose_stack.docker_environment(), **stack.variables()},
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr, time.monotonic() - started


def test_a_backup_restores_into_a_fresh_stack_and_its_desk_reads_the_tips(
    stack: Stack, tmp_path: Path, artifacts_dir: Path, one_extra_stack: None
) -> None:
    markers = [f"backup-marker-{uuid.uuid4().hex}" for _ in range(2)]
    for marker in markers:
        assert send_tip(stack, f"Seen near the harbour. {marker}").status == 200
    # The backup holds the database; tips still waiting in the spool go in with the batch.
    flush_spool(stack)
    backup = tmp_path / "backup"
    _, backup_seconds = form_service(
        stack, "backup", "create", "--to", str(backup), "--folder", str(stack.deployment)
    )
    assert (backup / "database.dump").stat().st_mode & 0o077 == 0
    assert (backup / "secrets" / "desk-key.json").exists()
    passphrase = stack.passphrase.read_bytes().strip()
    for path in backup.rglob("*"):
        assert path.is_dir() or passphrase not in path.read_bytes(), path

    fresh = Stack(tmp_path / "fresh", project="abduction-ci-restore", ports=RESTORE_PORTS)
    fresh.deployment.mkdir(parents=True)
    try:
        output, restore_seconds = form_service(
            fresh, "backup", "restore", "--from", str(backup), "--folder", str(fresh.deployment)
        )
        assert "put back" in output and (fresh.secrets / "desk-key.json").exists()
        up_seconds = compose_stack.up(fresh)
        desk = signed_in_desk(fresh)
        for marker in markers:
            pages = tips_found(desk, fresh, marker)
            assert len(pages) == 1 and marker in pages[0], marker
        # The restored intake still takes tips, under the same public key.
        assert send_tip(fresh, "After the restore.").status == 200
    finally:
        compose_stack.down(fresh)
    figures = {"backup_seconds": backup_seconds, "restore_seconds": restore_seconds}
    figures["restored_up_seconds"] = up_seconds
    figures["dump_bytes"] = (backup / "database.dump").stat().st_size
    (artifacts_dir / "compose-backup.json").write_text(json.dumps(figures, indent=2))
