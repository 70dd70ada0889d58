"""Make deleted rows unreadable on disk, not only invisible to queries (finding 8).

SQLite: every connection runs with `secure_delete` on (form_service/db.py), so a deleted
row's bytes are overwritten with zeros in the pages that change; the old page images still
sit in the `-wal` file until a checkpoint copies the new ones back, so after a purge the WAL
is checkpointed and truncated to zero bytes. PostgreSQL: a deleted row stays in its page
until VACUUM, and even then a plain VACUUM only marks the space free: measured here, the
ciphertext of a purged tip sharing a page with a kept one was still in the table's file.
So the purged tables get VACUUM FULL, which writes them to new files and unlinks the old
(outside a transaction, as VACUUM requires; it locks each table for the rewrite, seconds
for the desk's tables, which is why the purge runs at night). Only a table's owner may
vacuum it: under the desk's own role it is skipped and says so. What neither reaches: the
freed disk blocks of the unlinked files, PostgreSQL's WAL segments until recycled, and any
backup or archive taken before the purge (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, text

from form_service.privileges import quote


def scrub(engine: Engine, tables: Iterable[str]) -> list[str]:
    """Overwrite what a committed delete left on disk; return what could not be done."""
    if engine.dialect.name == "sqlite":
        return _truncate_wal(engine)
    return _vacuum(engine, list(tables))


def _truncate_wal(engine: Engine) -> list[str]:
    """Copy the WAL into the database file and truncate it to zero bytes."""
    with engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        return ["the SQLite WAL is in use by another connection: it is emptied at the next purge"]
    return []


def _vacuum(engine: Engine, tables: list[str]) -> list[str]:
    """VACUUM FULL the tables this role owns; name those it may not vacuum."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        owned = set(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_class c WHERE c.relname = ANY(:names) "
                    "AND pg_has_role(current_user, c.relowner, 'USAGE')"
                ),
                {"names": tables},
            ).scalars()
        )
        mine = [table for table in tables if table in owned]
        if mine:
            connection.execute(text("VACUUM FULL " + ", ".join(quote(table) for table in mine)))
    skipped = [table for table in tables if table not in owned]
    if skipped:
        return [
            "VACUUM FULL needs the tables' owner, so purged rows may stay in the files: run the "
            f"purge with the owner's database URL to rewrite {', '.join(skipped)}"
        ]
    return []
