"""With only the intake's credentials, every forbidden action fails (privileges.py)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, exc, text
from sqlalchemy.engine import make_url

from form_service import migrate, privileges
from form_service.crypto import receipt_hash
from form_service.intake import create_app, spool
from form_service.models import Base
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import TYPED, post_tip, receipt_code, stored_tips


@pytest.fixture
def roles(migrated_postgres: str) -> Iterator[dict[str, Any]]:
    """Create this test's intake and desk roles (unique: roles are cluster-wide); drop after."""
    suffix = uuid.uuid4().hex[:10]
    names = {"intake": f"test_intake_{suffix}", "desk": f"test_desk_{suffix}"}
    owner = create_engine(migrated_postgres)
    with owner.begin() as connection:
        privileges.apply(connection, names)
        # Idempotent: applying twice changes nothing and fails nothing.
        privileges.apply(connection, names)
    url = make_url(migrated_postgres)
    engines = {purpose: create_engine(url.set(username=name)) for purpose, name in names.items()}
    yield engines
    for engine in engines.values():
        engine.dispose()
    with owner.begin() as connection:
        for name in names.values():
            connection.execute(text(f'DROP OWNED BY "{name}"'))
            connection.execute(text(f'DROP ROLE "{name}"'))
    owner.dispose()


TIP = (
    "INSERT INTO tips (tip_id, received_on, language, topic, status, sealed_key, ciphertext, "
    "receipt_hash) VALUES (:tip_id, '2026-05-13', 'en', 'other', 'new', 'k', 'c', :hash)"
)
FORBIDDEN_TO_THE_INTAKE = {
    "insert a tip directly": TIP.replace(":tip_id", "4242").replace(":hash", "'h'"),
    "insert an attachment directly": "INSERT INTO attachments (tip_id, ciphertext) VALUES (1, 'c')",
    "insert a reply key directly": "INSERT INTO tip_reply_keys VALUES (1, 's', 'k')",
    "insert staff": "INSERT INTO staff (email, role, password_hash) VALUES ('x@y', 'admin', 'h')",
    "read tips": "SELECT ciphertext FROM tips",
    "read tip ids": "SELECT tip_id FROM tips",
    "read staff": "SELECT * FROM staff",
    "read messages": "SELECT * FROM tip_messages",
    "read reply keys": "SELECT * FROM tip_reply_keys",
    "read attachments": "SELECT * FROM attachments",
    "add a message to any tip": (
        "INSERT INTO tip_messages (message_id, tip_id, direction, sent_on, sequence, "
        "sealed_key, ciphertext, seen_by_desk) "
        "VALUES ('m', 1, 'to_desk', '2026-05-13', 1, 'k', 'c', false)"
    ),
    "erase a reply": "UPDATE tip_messages SET tipster_ciphertext = NULL",
    "read audit": "SELECT * FROM audit_entries",
    "read anchors": "SELECT * FROM audit_anchors",
    "alter audit": "INSERT INTO audit_entries (action) VALUES ('forged')",
    "delete audit": "DELETE FROM audit_entries",
    "disable a trigger": "ALTER TABLE audit_entries DISABLE TRIGGER ALL",
    "read sessions": "SELECT * FROM staff_sessions",
    "read recovery codes": "SELECT * FROM staff_recovery_codes",
    "read labels": "SELECT * FROM tip_labels",
    "read triage": "SELECT * FROM tip_triage",
    "read templates": "SELECT * FROM reply_templates",
    "read notes": "SELECT * FROM tip_notes",
    "update a tip": "UPDATE tips SET status = 'closed'",
    "drop a table": "DROP TABLE tips",
    "change the schema's revision": "UPDATE alembic_version SET version_num = 'x'",
}
FORBIDDEN_TO_THE_DESK = {
    "update audit": "UPDATE audit_entries SET action = 'x'",
    "delete audit": "DELETE FROM audit_entries",
    "truncate audit": "TRUNCATE audit_entries",
    "disable a trigger": "ALTER TABLE audit_entries DISABLE TRIGGER ALL",
    "drop the trigger": "DROP TRIGGER audit_entries_append_only ON audit_entries",
    "forge an anchor": "INSERT INTO audit_anchors (through_entry_id, through_hash, entries, "
    "anchor_hash) VALUES (1000000, 'h', 1, 'h')",
    "delete an anchor": "DELETE FROM audit_anchors",
}


def refused(engine: Any, statement: str) -> bool:
    """Tell whether PostgreSQL refuses a statement for lack of rights."""
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except exc.ProgrammingError as error:
        return "permission denied" in str(error) or "must be owner" in str(error)
    return False


STORE_TIP = (
    "SELECT intake_store_tip(4242, '2026-05-13', 'en', 'other', 'k', 'c', :hash, :salt, "
    "'p', ARRAY['f1', 'f2']::bytea[])"
)


def test_the_intake_adds_a_tip_only_through_its_function_and_only_as_new(
    roles: dict[str, Any], migrated_postgres: str
) -> None:
    values = {"hash": b"h" * 32, "salt": b"s" * 16}
    with roles["intake"].begin() as connection:
        assert connection.execute(text(STORE_TIP), values).scalar() is True
        # The same receipt hash again (a retried batch): nothing stored twice.
        assert connection.execute(text(STORE_TIP), values).scalar() is False
    owner = create_engine(migrated_postgres)
    try:
        with owner.begin() as connection:
            status = connection.execute(text("SELECT status FROM tips WHERE tip_id = 4242"))
            assert status.scalar() == "new"
            files = connection.execute(
                text(
                    "SELECT ciphertext FROM attachments WHERE tip_id = 4242 ORDER BY attachment_id"
                )
            )
            assert [bytes(row[0]) for row in files] == [b"f1", b"f2"]
            connection.execute(text("DELETE FROM tips WHERE tip_id = 4242"))
    finally:
        owner.dispose()


@pytest.mark.parametrize("action", sorted(FORBIDDEN_TO_THE_INTAKE))
def test_the_intake_cannot(roles: dict[str, Any], action: str) -> None:
    assert refused(roles["intake"], FORBIDDEN_TO_THE_INTAKE[action])


@pytest.mark.parametrize("action", sorted(FORBIDDEN_TO_THE_DESK))
def test_the_desk_cannot(roles: dict[str, Any], action: str) -> None:
    assert refused(roles["desk"], FORBIDDEN_TO_THE_DESK[action])


def test_the_desk_can_read_tips_and_add_audit_entries(roles: dict[str, Any]) -> None:
    with roles["desk"].begin() as connection:
        connection.execute(text("SELECT count(*) FROM tips"))
        connection.execute(text("SELECT count(*) FROM audit_entries"))


def test_the_desk_can_make_and_spend_recovery_codes(roles: dict[str, Any]) -> None:
    with roles["desk"].begin() as connection:
        staff_id = connection.scalar(
            text(
                "INSERT INTO staff (email, role, password_hash, totp_confirmed, disabled, "
                "created_at) VALUES ('codes@example.org', 'reviewer', 'h', true, false, now()) "
                "RETURNING staff_id"
            )
        )
        connection.execute(
            text("INSERT INTO staff_recovery_codes (code_hash, staff_id) VALUES ('c', :s)"),
            {"s": staff_id},
        )
        spent = connection.execute(text("DELETE FROM staff_recovery_codes WHERE code_hash = 'c'"))
        assert spent.rowcount == 1
        connection.execute(text("DELETE FROM staff WHERE staff_id = :s"), {"s": staff_id})


def test_the_batch_stores_a_spooled_tip_with_the_intake_role_only(
    roles: dict[str, Any], migrated_postgres: str, desk_public_key: str, tmp_path: Path
) -> None:
    settings = make_settings(migrated_postgres, desk_public_key, instance_dir=tmp_path)
    client = create_app(settings).test_client()
    response = post_tip(
        client, flush=False, **TYPED, attachments=[(io.BytesIO(b"notes"), "a.txt", "text/plain")]
    )
    assert response.status_code == 200
    # The Compose `spool` service connects as the intake: INSERT only, no SELECT.
    assert spool.flush(settings.spool_path, roles["intake"]).records == 1
    assert spool.waiting(settings.spool_path) == []
    code = receipt_code(response)
    with roles["intake"].connect() as connection:
        status = connection.execute(
            text("SELECT status FROM intake_read_tip(:hash)"),
            {"hash": receipt_hash(settings.receipt_pepper, code)},
        ).scalar()
    assert status == "new"
    # Stored whole: the tip, its reply key and its file.
    (tip,) = [
        t
        for t in stored_tips(settings)
        if t.receipt_hash == receipt_hash(settings.receipt_pepper, code)
    ]
    assert len(tip.attachments) == 1
    owner = create_engine(migrated_postgres)
    try:
        with owner.connect() as connection:
            keys = connection.execute(
                text("SELECT count(*) FROM tip_reply_keys WHERE tip_id = :id"), {"id": tip.tip_id}
            )
            assert keys.scalar() == 1
    finally:
        owner.dispose()


def test_the_desk_role_cannot_rewrite_purged_tables_and_says_so(roles: dict[str, Any]) -> None:
    from form_service import erase

    notes = erase.scrub(roles["desk"], ["tips", "attachments"])
    assert len(notes) == 1 and "tips, attachments" in notes[0] and "owner" in notes[0]


def test_every_table_has_the_desks_rights_declared() -> None:
    # A table missing from GRANTS would be out of the desk's reach in production only: the
    # tests' SQLite and owner connections would never notice.
    tables = {*Base.metadata.tables, "alembic_version"}
    assert set(privileges.GRANTS["desk"]) == tables
    assert set(privileges.GRANTS["intake"]) <= tables


def test_each_app_role_passes_the_start_checks_schema_comparison(
    roles: dict[str, Any], migrated_postgres: str, desk_public_key: str
) -> None:
    head = migrate.head_revisions(make_settings(migrated_postgres, desk_public_key))
    for engine in roles.values():
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert tuple(found) == head
