"""Who may do what in PostgreSQL: the owner, the public intake and the staff desk.

The migration role (`owner`) owns every table, trigger and function. The apps connect as
roles of their own, granted only what these tables say, so a compromised intake can add a tip
but cannot read one, nor touch staff, sessions, audit, labels or notes; and the desk can add
audit entries but never change, delete or truncate them, nor add an anchor that would let
old entries go, nor alter a trigger (only a table's owner can). `form-service db roles`
applies it (idempotent). SQLite has no roles: it is the
single-user development default only.

The intake has no right on any table. The batch (which runs with the intake's rights) and the
check pages reach one tip, named by its receipt hash only, through SECURITY DEFINER functions
on a fixed search_path (created by migration 0014_intake_functions, which revokes them from
PUBLIC): the intake may EXECUTE those listed in FUNCTIONS and nothing else. A follow-up is
added only through one of them, so a compromised intake cannot attach a message to a tip
whose receipt it does not hold, nor store a tip as anything but new.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from sqlalchemy import Connection, text

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Table -> rights, per application role. A table not listed is out of reach.
GRANTS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    # No tip table at all: a tip and what follows it are stored through FUNCTIONS only. The
    # schema's revision only, which the start check compares with the code's (cli/startup.py).
    "intake": {"alembic_version": ("SELECT",)},
    "desk": {
        "alembic_version": ("SELECT",),
        "tips": READ_WRITE,
        "attachments": READ_WRITE,
        "tip_triage": READ_WRITE,
        "tip_labels": READ_WRITE,
        "tip_notes": READ_WRITE,
        "tip_changes": READ_WRITE,
        "tip_reply_keys": READ_WRITE,
        "tip_messages": READ_WRITE,
        "tip_message_attachments": READ_WRITE,
        "reply_templates": READ_WRITE,
        "notify_state": READ_WRITE,
        "staff": READ_WRITE,
        "staff_sessions": READ_WRITE,
        "staff_recovery_codes": READ_WRITE,
        # Append-only: never UPDATE, DELETE or TRUNCATE.
        "audit_entries": ("SELECT", "INSERT"),
        # Read to verify from; only the owner prunes (`form-service audit prune`).
        "audit_anchors": ("SELECT",),
    },
}

# The functions (argument types) each role may call, all SECURITY DEFINER: see the docstring.
FUNCTIONS: Mapping[str, tuple[str, ...]] = {
    "intake": (
        "intake_store_tip(integer, date, text, text, bytea, bytea, bytea, bytea, bytea, bytea[])",
        "intake_find_tip(bytea)",
        "intake_read_tip(bytea)",
        "intake_tip_messages(bytea)",
        "intake_store_reply_key(bytea, bytea, bytea)",
        "intake_add_follow_up(bytea, text, date, bytea, bytea, bytea[])",
        "intake_delete_reply(bytea, text, date)",
    ),
    "desk": (),
}


def apply(connection: Connection, role_names: Mapping[str, str]) -> None:
    """Create the application roles if missing and set their rights exactly as declared.

    `role_names` maps "intake" and "desk" to the PostgreSQL role names. Run as the owner.
    """
    for purpose, role in role_names.items():
        quoted = quote(role)
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": role}
        ).scalar()
        if not exists:
            connection.execute(text(f"CREATE ROLE {quoted} LOGIN"))
        connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}"))
        connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        for table, rights in GRANTS[purpose].items():
            connection.execute(text(f"GRANT {', '.join(rights)} ON {quote(table)} TO {quoted}"))
            for sequence in owned_sequences(connection, table):
                connection.execute(text(f"GRANT USAGE ON SEQUENCE {quote(sequence)} TO {quoted}"))
        connection.execute(text(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {quoted}"))
        for signature in FUNCTIONS[purpose]:
            connection.execute(text(f"GRANT EXECUTE ON FUNCTION {signature} TO {quoted}"))


def owned_sequences(connection: Connection, table: str) -> list[str]:
    """Return the sequences behind a table's serial columns (INSERT needs USAGE on them)."""
    rows = connection.execute(
        text(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "JOIN pg_class t ON d.refobjid = t.oid "
            "WHERE s.relkind = 'S' AND t.relname = :table"
        ),
        {"table": table},
    )
    return [row[0] for row in rows]


def quote(name: str) -> str:
    """Quote an identifier for PostgreSQL."""
    return '"' + name.replace('"', '""') + '"'


SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """Return PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802, RFC 7677).

    Sent instead of the password, the clear text never reaches the server, so no statement
    log or `pg_stat_activity` can show it. The passwords `deploy init` writes are ASCII, for
    which SASLprep changes nothing; others are refused rather than normalised here.
    """
    if not password.isascii() or not password.isprintable():
        raise ValueError("a database password must be printable ASCII")
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    encode = base64.b64encode
    return (
        f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{encode(salt).decode()}"
        f"${encode(stored_key).decode()}:{encode(server_key).decode()}"
    )


def set_password(connection: Connection, role: str, password: str) -> None:
    """Set a role's password (as its SCRAM verifier: base64, `$` and `:` only, no quoting).

    Sent as is (`text()` would read the verifier's `:<base64>` as bind parameters).
    """
    verifier = scram_verifier(password)
    connection.exec_driver_sql(f"ALTER ROLE {quote(role)} PASSWORD '{verifier}'")
