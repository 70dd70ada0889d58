"""The tipster's side of a conversation, written: a reply key, a follow-up, a reply deleted.

Like a tip, none of these reaches the database while the tipster waits (records.py says why):
the request spools a record, and the next batch stores it through the kind's store function
below, inside the batch's one transaction. Each record names its tip by the receipt hash,
never the tip id, and each store is idempotent (a batch run again stores nothing twice) and
stores nothing for a tip that is gone (deleted by the desk before the batch). The tipster is
told that what they sent appears after the next batch. On PostgreSQL each store is a call of
the intake's narrow function (migration 0014_intake_functions), since the batch runs with the
intake's rights only; on SQLite, the single-user development default, the same statement.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nacl.public import PublicKey
from sqlalchemy import TextClause, insert, text
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment, seal_tip
from form_service.intake import records
from form_service.intake.lookup import FoundTip
from form_service.intake.submit import derive
from form_service.models import MessageAttachment

REPLY_KEY, FOLLOW_UP, REPLY_DELETED = "reply_key", "follow_up", "reply_deleted"


def spool_reply_key(spool_dir: Path, secret: str, found: FoundTip, today: dt.date) -> None:
    """Spool the first reply key of a tip found without one (once, however often looked up)."""
    if found.new_reply_key is None:
        return
    record_id = derive(secret, REPLY_KEY, found.receipt_hash.hex())[:16].hex()
    if records.spool_has(spool_dir, record_id):
        return
    payload = {
        "receipt_hash": records.encode_bytes(found.receipt_hash),
        "salt": records.encode_bytes(found.new_reply_key.salt),
        "public_key": records.encode_bytes(found.new_reply_key.public_key),
    }
    records.spool_on(spool_dir, REPLY_KEY, record_id, payload, today)


def spool_follow_up(
    spool_dir: Path,
    public_key: PublicKey,
    hashed: bytes,
    text: str,
    attachments: Sequence[PlainAttachment],
    today: dt.date,
) -> str:
    """Seal a follow-up to the desk exactly like a first tip, spool it, return its id."""
    sealed = seal_tip(public_key, {"message": text}, attachments)
    message_id = secrets.token_hex(16)
    payload = {
        "receipt_hash": records.encode_bytes(hashed),
        "message_id": message_id,
        "sent_on": today.isoformat(),
        "sealed_key": records.encode_bytes(sealed.sealed_key),
        "ciphertext": records.encode_bytes(sealed.ciphertext),
        "attachments": [records.encode_bytes(item) for item in sealed.attachments],
    }
    records.spool_on(spool_dir, FOLLOW_UP, message_id, payload, today)
    return message_id


def deletion_id(secret: str, message_id: str) -> str:
    """Return the record id of a reply's deletion: one per reply, however often asked."""
    return derive(secret, REPLY_DELETED, message_id)[:16].hex()


def spool_reply_deletion(
    spool_dir: Path, secret: str, hashed: bytes, message_id: str, today: dt.date
) -> None:
    """Spool the deletion of the tipster's copy of one reply of their tip."""
    payload = {
        "receipt_hash": records.encode_bytes(hashed),
        "message_id": message_id,
        "deleted_on": today.isoformat(),
    }
    records.spool_on(spool_dir, REPLY_DELETED, deletion_id(secret, message_id), payload, today)


def deletion_waits(spool_dir: Path, secret: str, message_id: str) -> bool:
    """Tell whether a reply's deletion waits for the next batch (its text is then hidden)."""
    return records.spool_has(spool_dir, deletion_id(secret, message_id))


# Each store: (on PostgreSQL, a call of the intake's function; on SQLite, the statement).
STORE_REPLY_KEY = (
    text(
        "SELECT intake_store_reply_key(CAST(:receipt_hash AS bytea), CAST(:salt AS bytea), "
        "CAST(:public_key AS bytea))"
    ),
    text(
        "INSERT INTO tip_reply_keys (tip_id, salt, public_key) "
        "SELECT t.tip_id, :salt, :public_key FROM tips t WHERE t.receipt_hash = :receipt_hash "
        "ON CONFLICT DO NOTHING"
    ),
)
STORE_FOLLOW_UP = (
    text(
        "SELECT intake_add_follow_up(CAST(:receipt_hash AS bytea), CAST(:message_id AS text), "
        "CAST(:sent_on AS date), CAST(:sealed_key AS bytea), CAST(:ciphertext AS bytea), "
        "CAST(:files AS bytea[]))"
    ),
    text(
        "INSERT INTO tip_messages (message_id, tip_id, direction, sent_on, sequence, "
        "sealed_key, ciphertext, seen_by_desk) "
        "SELECT :message_id, t.tip_id, 'to_desk', :sent_on, "
        "(SELECT coalesce(max(m.sequence), 0) + 1 FROM tip_messages m WHERE m.tip_id = t.tip_id), "
        ":sealed_key, :ciphertext, false FROM tips t WHERE t.receipt_hash = :receipt_hash "
        "ON CONFLICT DO NOTHING RETURNING message_id"
    ),
)
STORE_REPLY_DELETION = (
    text(
        "SELECT intake_delete_reply(CAST(:receipt_hash AS bytea), CAST(:message_id AS text), "
        "CAST(:deleted_on AS date))"
    ),
    text(
        "UPDATE tip_messages SET tipster_ciphertext = NULL, deleted_on = :deleted_on "
        "WHERE message_id = :message_id AND direction = 'to_tipster' AND deleted_on IS NULL "
        "AND tip_id = (SELECT t.tip_id FROM tips t WHERE t.receipt_hash = :receipt_hash)"
    ),
)


def run_store(session: Session, statements: tuple[TextClause, TextClause], **values: Any) -> Any:
    """Run a store's statement for the session's database (dates as ISO text on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(statements[0], values)
    plain = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}
    return session.execute(statements[1], plain)


def store_reply_key(session: Session, payload: Mapping[str, Any]) -> None:
    """Store a tip's first reply key; a tip that has one already keeps it."""
    run_store(
        session,
        STORE_REPLY_KEY,
        receipt_hash=records.decode_bytes(payload["receipt_hash"]),
        salt=records.decode_bytes(payload["salt"]),
        public_key=records.decode_bytes(payload["public_key"]),
    )


def store_follow_up(session: Session, payload: Mapping[str, Any]) -> None:
    """Store a follow-up after the tip's last message, and its files (skipped if stored)."""
    files = [records.decode_bytes(item) for item in payload["attachments"]]
    values = {
        "receipt_hash": records.decode_bytes(payload["receipt_hash"]),
        "message_id": str(payload["message_id"]),
        "sent_on": dt.date.fromisoformat(payload["sent_on"]),
        "sealed_key": records.decode_bytes(payload["sealed_key"]),
        "ciphertext": records.decode_bytes(payload["ciphertext"]),
    }
    if session.get_bind().dialect.name == "postgresql":
        run_store(session, STORE_FOLLOW_UP, files=files, **values)  # the files too, in one call
        return
    added = run_store(session, STORE_FOLLOW_UP, **values).scalar()
    if added is not None and files:
        session.execute(
            insert(MessageAttachment), [{"message_id": added, "ciphertext": f} for f in files]
        )


def store_reply_deletion(session: Session, payload: Mapping[str, Any]) -> None:
    """Erase the tipster's copy of one reply of their tip and note the day it was done."""
    run_store(
        session,
        STORE_REPLY_DELETION,
        receipt_hash=records.decode_bytes(payload["receipt_hash"]),
        message_id=str(payload["message_id"]),
        deleted_on=dt.date.fromisoformat(payload["deleted_on"]),
    )


for _kind in (
    records.RecordKind(
        REPLY_KEY, store_reply_key, frozenset({"receipt_hash", "salt", "public_key"})
    ),
    records.RecordKind(
        FOLLOW_UP,
        store_follow_up,
        frozenset(
            {"receipt_hash", "message_id", "sent_on", "sealed_key", "ciphertext", "attachments"}
        ),
    ),
    records.RecordKind(
        REPLY_DELETED, store_reply_deletion, frozenset({"receipt_hash", "message_id", "deleted_on"})
    ),
):
    records.register(_kind)
