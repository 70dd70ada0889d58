"""`form-service db roles` creates the app roles, grants their rights and sets passwords."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from form_service import privileges
from form_service.cli import cli


@pytest.fixture
def role_names(migrated_postgres: str) -> Iterator[dict[str, str]]:
    """Give this test role names of its own (roles are cluster-wide); drop them after."""
    suffix = uuid.uuid4().hex[:10]
    names = {"intake": f"test_intake_{suffix}", "desk": f"test_desk_{suffix}"}
    yield names
    owner = create_engine(migrated_postgres)
    with owner.begin() as connection:
        for name in names.values():
            if connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}
            ).scalar():
                connection.execute(text(f'DROP OWNED BY "{name}"'))
                connection.execute(text(f'DROP ROLE "{name}"'))
    owner.dispose()


def stored_verifier(database_url: str, role: str) -> str:
    """Return what PostgreSQL keeps as a role's password."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT rolpassword FROM pg_authid WHERE rolname = :role"), {"role": role}
            ).scalar_one()
    finally:
        engine.dispose()


def test_the_roles_get_their_passwords_as_scram_verifiers_only(
    migrated_postgres: str, role_names: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "intake").write_text("intake-password-Xq7\n")
    (tmp_path / "desk").write_text("desk-password-Zr8\n")
    args = ["db", "roles", "--intake", role_names["intake"], "--desk", role_names["desk"]]
    args += ["--intake-password-file", str(tmp_path / "intake")]
    args += ["--desk-password-file", str(tmp_path / "desk")]
    result = CliRunner().invoke(cli, args, env={"FORM_SERVICE_DATABASE_URL": migrated_postgres})
    assert result.exit_code == 0, result.output
    for purpose, password in (("intake", "intake-password-Xq7"), ("desk", "desk-password-Zr8")):
        verifier = stored_verifier(migrated_postgres, role_names[purpose])
        assert verifier.startswith("SCRAM-SHA-256$4096:") and password not in verifier
        salt = base64.b64decode(verifier.split("$")[1].split(":")[1])
        assert privileges.scram_verifier(password, salt) == verifier


def test_the_verifier_is_the_one_postgresql_computes_itself(
    migrated_postgres: str, role_names: dict[str, str]
) -> None:
    role = role_names["intake"]
    engine = create_engine(migrated_postgres)
    try:
        with engine.begin() as connection:
            connection.execute(text("SET password_encryption = 'scram-sha-256'"))
            connection.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'clear-text-9'"))
    finally:
        engine.dispose()
    theirs = stored_verifier(migrated_postgres, role)
    salt = base64.b64decode(theirs.split("$")[1].split(":")[1])
    assert privileges.scram_verifier("clear-text-9", salt) == theirs


def test_a_password_that_is_not_printable_ascii_is_refused_with_a_reason(
    migrated_postgres: str, role_names: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "intake").write_text("pässword\n")
    args = ["db", "roles", "--intake", role_names["intake"], "--desk", role_names["desk"]]
    args += ["--intake-password-file", str(tmp_path / "intake")]
    result = CliRunner().invoke(cli, args, env={"FORM_SERVICE_DATABASE_URL": migrated_postgres})
    assert result.exit_code == 1 and "printable ASCII" in result.output


def test_sqlite_has_no_roles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = CliRunner().invoke(cli, ["db", "roles"], env={"FORM_SERVICE_DATABASE_URL": url})
    assert result.exit_code == 1 and "single-user development" in result.output
