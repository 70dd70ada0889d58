"""The `migrate` service upgrades a database made by an older schema, tips and all.

A stack of its own (project and ports apart from the CI stack) is migrated only to the
older revision, given tips in that revision's shape, then started as usual: `migrate`
brings it to the newest revision and the desk reads every tip.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

from form_service.crypto import load_public_key, seal_tip
from form_service.deploy import read_env
from tests.compose.journey import signed_in_desk, tips_found
from tools.docker import compose_stack
from tools.docker.compose_stack import Stack

PREVIOUS = "0002_review"
UPGRADE_PORTS = (19280, 19643, 19644)
INSERT = (
    "INSERT INTO tips (received_on, language, topic, status, sealed_key, ciphertext, "
    "receipt_hash) VALUES (current_date, 'en', 'sighting', 'new', "
    "decode(:'sealed_key', 'hex'), decode(:'ciphertext', 'hex'), decode(:'receipt', 'hex'));\n"
)


def insert_old_tip(stack: Stack, public_key: str, message: str) -> None:
    """Store a sealed tip with SQL in the shape the older schema has (no app involved)."""
    fields = {"message": message, "when_where": "", "how_known": "", "contact": ""}
    sealed = seal_tip(load_public_key(public_key), fields, [])
    values = {
        "sealed_key": sealed.sealed_key.hex(),
        "ciphertext": sealed.ciphertext.hex(),
        "receipt": secrets.token_bytes(32).hex(),
    }
    variables = [arg for name, value in values.items() for arg in ("-v", f"{name}={value}")]
    psql = ("psql", "-v", "ON_ERROR_STOP=1", "-U", "formservice", "-d", "formservice", "-q")
    compose_stack.compose(stack, "exec", "-T", "db", *psql, *variables, stdin=INSERT)


def revisions(stack: Stack) -> tuple[str, str]:
    """Return the database's revision and the newest one, as the app image reports them."""
    output = compose_stack.compose(
        stack, "run", "--rm", "--no-deps", "-T", "migrate", "form-service", "db", "current"
    )
    current, newest = (line.split(":", 1)[1].strip() for line in output.splitlines()[:2])
    return current, newest


def test_migrate_upgrades_a_database_of_the_previous_schema_and_the_desk_reads_its_tips(
    stack: Stack, tmp_path: Path, one_extra_stack: None
) -> None:
    # `stack` only for its images: this test builds nothing of its own.
    old = Stack(tmp_path / "old", project="abduction-ci-upgrade", ports=UPGRADE_PORTS)
    compose_stack.write_secrets(old)
    try:
        compose_stack.start_database(old)
        compose_stack.compose(
            old, "run", "--rm", "--no-deps", "-T", "migrate", "form-service", "db", "upgrade",
            PREVIOUS, timeout=300,
        )  # fmt: skip
        assert revisions(old)[0] == PREVIOUS
        public_key = read_env(old.secrets / "intake.env")["FORM_SERVICE_DESK_PUBLIC_KEY"]
        markers = [f"upgrade-marker-{uuid.uuid4().hex}" for _ in range(2)]
        for marker in markers:
            insert_old_tip(old, public_key, f"Sent before the upgrade. {marker}")
        compose_stack.up(old)
        current, newest = revisions(old)
        assert current == newest != PREVIOUS
        desk = signed_in_desk(old)
        for marker in markers:
            pages = tips_found(desk, old, marker)
            assert len(pages) == 1 and marker in pages[0], marker
    finally:
        compose_stack.down(old)
