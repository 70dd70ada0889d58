"""CI's stand-in PostgreSQL image behaves as the official one where the stack may rely on it.

The Compose journey already proves password logins over the network; this covers the first
start's other inputs (a database and owner by name, init scripts), which later database roles
are likely to use.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tools.docker import compose_stack

POSTGRES_IMAGE = "abduction-ci/postgres:15-bookworm-uid999"
# A throwaway container's password, random per run (nothing written in the repository).
PASSWORD = f"test-{uuid.uuid4().hex}"


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[str]:
    """Start the stand-in image with an init script of each kind; return the container."""
    if not compose_stack.engine_ready():
        require("Docker", "no engine answers or the local base images are missing")
    init = tmp_path / "init"
    init.mkdir()
    (init / "10-table.sql").write_text("CREATE TABLE marker (note text);\n")
    (init / "20-row.sh").write_text(
        'psql -v ON_ERROR_STOP=1 -U "$user" -d "$database" -c '
        "\"INSERT INTO marker VALUES ('from sh')\"\n"
    )
    (tmp_path / "password").write_text(PASSWORD)
    for path in (*init.iterdir(), init, tmp_path / "password"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    name = f"ci-postgres-{uuid.uuid4().hex[:8]}"
    with compose_stack.host_network_change():  # a container on the default bridge
        subprocess.run(
            [
                *("docker", "run", "--detach", "--rm", "--name", name),
                *("-e", "POSTGRES_USER=alice", "-e", "POSTGRES_DB=shop"),
                *("-e", "POSTGRES_PASSWORD_FILE=/run/password"),
                *("-v", f"{tmp_path / 'password'}:/run/password:ro"),
                *("-v", f"{init}:/docker-entrypoint-initdb.d:ro"),
                POSTGRES_IMAGE,
            ],
            check=True,
            capture_output=True,
        )
    try:
        yield name
    finally:
        with compose_stack.host_network_change():
            subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True)


def psql(container: str, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    """Run psql over TCP (password authentication) inside the container."""
    return subprocess.run(
        [
            *("docker", "exec", "-e", f"PGPASSWORD={password}", container),
            "psql",
            "-h",
            "127.0.0.1",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_first_start_creates_the_owner_database_and_runs_init_scripts(postgres: str) -> None:
    deadline = time.monotonic() + 60
    query = ("-U", "alice", "-d", "shop", "-Atc", "SELECT note FROM marker")
    while (done := psql(postgres, *query, password=PASSWORD)).returncode != 0:
        assert time.monotonic() < deadline, done.stderr
        time.sleep(0.5)
    assert done.stdout.strip() == "from sh"
    wrong = psql(postgres, *query, password=PASSWORD[::-1])
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr
