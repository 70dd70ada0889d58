"""Who may do what in PostgreSQL: the owner, the public intake and the staff desk.

The migration role (`owner`) owns every table, trigger and function. The apps connect as
roles of their own, granted only what this table says, so a compromised intake can add a tip
but cannot read one, nor touch staff, sessions, audit, labels or notes; and the desk can add
audit entries but never change, delete or truncate them, nor add an anchor that would let
old entries go, nor alter a trigger (only a table's owner can). `form-service db roles`
applies it (idempotent). SQLite has no roles: it is the
single-user development default only.

The intake looks up one tip by its receipt hash only through narrow SECURITY DEFINER
functions (FUNCTIONS below), which run with the owner's rights and return one tip's public
facts; each new look-up adds its function here, with its grant.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, text

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Table -> rights, per application role. A table not listed is out of reach.
GRANTS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "intake": {
        "tips": ("INSERT",),
        "attachments": ("INSERT",),
        "tip_reply_keys": ("INSERT",),
        "tip_messages": ("INSERT",),
        "tip_message_attachments": ("INSERT",),
    },
    "desk": {
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
        # Append-only: never UPDATE, DELETE or TRUNCATE.
        "audit_entries": ("SELECT", "INSERT"),
        # Read to verify from; only the owner prunes (`form-service audit prune`).
        "audit_anchors": ("SELECT",),
    },
}

# SECURITY DEFINER functions the intake may call: (name and signature, body, grantee).
FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "intake_tip_status(hash bytea)",
        "RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS "
        "$$ SELECT status FROM tips WHERE receipt_hash = hash $$",
        "intake",
    ),
)


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
    for signature, body, grantee in FUNCTIONS:
        connection.execute(text(f"CREATE OR REPLACE FUNCTION {signature} {body}"))
        connection.execute(text(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC"))
        if grantee in role_names:
            role = quote(role_names[grantee])
            connection.execute(text(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}"))


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
