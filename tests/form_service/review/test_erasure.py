"""After a retention purge, the purged ciphertext is in no database file any more (finding 8).

SQLite: the database file, its -wal and -shm. PostgreSQL: each purged table's relation
files and their TOAST, found with pg_relation_filepath, after a CHECKPOINT has written the
vacuumed pages out (the server does the same within checkpoint_timeout on its own).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment
from form_service.db import sqlite_file
from form_service.models import (
    Attachment,
    MessageAttachment,
    MessageDirection,
    Tip,
    TipMessage,
    TipStatus,
    TipTriage,
)
from form_service.review import retention
from tests.conftest import require
from tests.form_service.factories import make_tip

TODAY = dt.date(2026, 6, 1)


def sealed_parts(db: Session, tip: Tip) -> list[bytes]:
    """Return the tip's stored secrets: its sealed key, ciphertext and attachments' ciphertext."""
    files = db.scalars(select(Attachment.ciphertext).where(Attachment.tip_id == tip.tip_id))
    return [tip.sealed_key, tip.ciphertext, *files]


def add_follow_up(db: Session, tip: Tip, sealed_key: bytes, text: bytes, file: bytes) -> None:
    """Give the tip a follow-up with one file (their bytes stand in for sealed ones)."""
    message_id = os.urandom(16).hex()
    db.add(
        TipMessage(
            message_id=message_id,
            tip_id=tip.tip_id,
            direction=MessageDirection.TO_DESK,
            sent_on=dt.date(2024, 12, 1),
            sequence=1,
            sealed_key=sealed_key,
            ciphertext=text,
        )
    )
    db.flush()
    db.add(MessageAttachment(message_id=message_id, ciphertext=file))
    db.commit()


def database_files(db: Session) -> list[Path]:
    """Return every file that holds the database's rows, as the server sees them."""
    bind = db.get_bind()
    url = bind.url.render_as_string(hide_password=False)
    path = sqlite_file(url)
    if path is not None:
        return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    with bind.connect() as connection:
        connection.execute(text("CHECKPOINT"))  # write the pages out, as the server will
        folder = Path(connection.execute(text("SHOW data_directory")).scalar_one())
        relations = connection.execute(
            text(
                "SELECT pg_relation_filepath(c.oid), pg_relation_filepath(c.reltoastrelid) "
                "FROM pg_class c WHERE c.relname = ANY(:names)"
            ),
            {"names": list(retention.PURGED_TABLES)},
        ).all()
    if not os.access(folder, os.R_OK | os.X_OK):
        require("PostgreSQL's data files", f"{folder} is not readable by this user")
    names = [name for pair in relations for name in pair if name]
    return [p for name in names for p in sorted(folder.glob(f"{name}*")) if p.is_file()]


def found(parts: list[bytes], files: list[Path]) -> list[int]:
    """Return the indexes of the parts whose bytes (their first 48) appear in any file."""
    contents = [path.read_bytes() for path in files]
    return [i for i, part in enumerate(parts) if any(part[:48] in data for data in contents)]


def test_purged_ciphertext_is_in_no_database_file(
    db: Session, desk_private_key: PrivateKey
) -> None:
    # A large attachment is stored out of line (PostgreSQL's TOAST, SQLite overflow pages).
    big = PlainAttachment(os.urandom(20_000), "application/octet-stream", "big.bin")
    doomed = [
        make_tip(db, desk_private_key, files=[big]),
        make_tip(db, desk_private_key, fields={"message": "short and purged"}),
    ]
    kept = make_tip(db, desk_private_key, fields={"message": "kept"})
    follow_up = [os.urandom(80), os.urandom(600), os.urandom(3000)]
    add_follow_up(db, doomed[1], *follow_up)
    purged = [part for tip in doomed for part in sealed_parts(db, tip)] + follow_up
    remaining = sealed_parts(db, kept)
    for tip in doomed:
        tip.status = TipStatus.CLOSED
        db.add(TipTriage(tip_id=tip.tip_id, close_reason="done", closed_on=dt.date(2025, 1, 1)))
    db.commit()
    # The test can fail: before the purge every part is on disk.
    assert found(purged, database_files(db)) == list(range(len(purged)))
    notes: list[str] = []
    assert retention.purge_closed_tips(db, 365, TODAY, "cli", notes.append) == 2
    assert notes == []
    files = database_files(db)
    assert found(purged, files) == [], [p.name for p in files]
    assert found(remaining, files) == list(range(len(remaining)))
    if db.get_bind().dialect.name == "sqlite":
        wal = [p for p in files if p.name.endswith("-wal")]
        assert all(p.stat().st_size == 0 for p in wal)
        assert db.execute(text("PRAGMA secure_delete")).scalar() == 1
