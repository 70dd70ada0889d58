"""Take a new tip: seal it to the desk, derive its receipt, and spool it for the next batch.

Nothing reaches the database at request time (records.py says why); `store_tip_record` is
what the flusher runs for each spooled tip, inside one transaction per batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PublicKey
from sqlalchemy import insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.crypto import PlainAttachment, new_receipt_code, receipt_hash, seal_tip
from form_service.intake import records
from form_service.models import Attachment, Tip, TipReplyKey, TipStatus, TipTopic, new_tip_id
from form_service.replykeys import new_reply_key

# A form's nonce: 32 hex digits, drawn when the form is shown.
NONCE = re.compile(r"[0-9a-f]{32}")
# Random tip ids are drawn again on a conflict (see store_tip_record).
TIP_ID_ATTEMPTS = 8


@dataclass(frozen=True)
class NewTip:
    """What a tipster sent, checked and cleaned, still in memory only."""

    language: str
    topic: TipTopic
    fields: Mapping[str, str]
    attachments: Sequence[PlainAttachment] = ()


def new_nonce() -> str:
    """Draw the nonce of a form as it is shown."""
    return secrets.token_hex(16)


def derive(secret: str, purpose: str, nonce: str) -> bytes:
    """Derive a value of one purpose from a form's nonce (HMAC with the intake's secret)."""
    return hmac.new(secret.encode(), f"{purpose} {nonce}".encode(), hashlib.sha256).digest()


def spool_tip(
    spool_dir: Path,
    public_key: PublicKey,
    secret: str,
    pepper: str,
    new_tip: NewTip,
    nonce: str | None,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """Seal a tip and spool it durably; return its receipt code (never stored).

    The same form posted again (same nonce) gets the same record id and receipt code and is
    not spooled twice; a post without a valid nonce gets random ones.
    """
    nonce = nonce if nonce and NONCE.fullmatch(nonce) else new_nonce()
    record_id = derive(secret, "record", nonce)[:16].hex()
    code = new_receipt_code(seed=derive(secret, "receipt", nonce))
    if records.spool_has(spool_dir, record_id):
        return code
    sealed = seal_tip(public_key, new_tip.fields, new_tip.attachments)
    # Only the public half is stored: the desk seals replies to it, the code opens them.
    reply_key = new_reply_key(code)
    today = clock.today()
    payload = {
        "received_on": today.isoformat(),
        "language": new_tip.language,
        "topic": new_tip.topic.value,
        "sealed_key": records.encode_bytes(sealed.sealed_key),
        "ciphertext": records.encode_bytes(sealed.ciphertext),
        "receipt_hash": records.encode_bytes(receipt_hash(pepper, code)),
        "attachments": [records.encode_bytes(item) for item in sealed.attachments],
        "reply_salt": records.encode_bytes(reply_key.salt),
        "reply_public_key": records.encode_bytes(reply_key.public_key),
    }
    records.spool_on(spool_dir, "tip", record_id, payload, today)
    return code


def store_tip_record(session: Session, payload: Mapping[str, Any]) -> None:
    """Insert one spooled tip and its attachments; a tip already stored is skipped.

    The receipt hash identifies a tip (a retried form has the same one), so a flush that
    crashed after its commit and runs again inserts nothing twice. On PostgreSQL the batch
    runs with the intake's rights, which reach no table: the tip goes in through the intake's
    function (privileges.py), which stores it as new, with its reply key and files.
    """
    values = {
        "received_on": dt.date.fromisoformat(payload["received_on"]),
        "language": payload["language"],
        "topic": TipTopic(payload["topic"]).value,
        "sealed_key": records.decode_bytes(payload["sealed_key"]),
        "ciphertext": records.decode_bytes(payload["ciphertext"]),
        "receipt_hash": records.decode_bytes(payload["receipt_hash"]),
    }
    reply_key = {
        "salt": records.decode_bytes(payload["reply_salt"]),
        "public_key": records.decode_bytes(payload["reply_public_key"]),
    }
    files = [records.decode_bytes(item) for item in payload["attachments"]]
    on_postgres = session.get_bind().dialect.name == "postgresql"
    # No savepoint (each would be a sub-transaction with an id of its own): a conflict on
    # either the random id or the receipt hash inserts nothing, and a fresh id is drawn.
    # A receipt hash already stored conflicts every time; a tip id clashes twice in a row
    # with odds of (tips / 2**31) squared, eight times never in practice.
    for _ in range(TIP_ID_ATTEMPTS):
        tip_id = new_tip_id()
        if on_postgres:
            row = {"tip_id": tip_id, **values, **reply_key, "files": files}
            if session.execute(STORE_TIP, row).scalar():
                return
            continue
        statement = (
            sqlite.insert(TIPS)
            .values(tip_id=tip_id, status=TipStatus.NEW, **values)
            .on_conflict_do_nothing()
            .returning(TIPS.c.tip_id)
        )
        if session.execute(statement).scalar() is not None:
            session.execute(insert(REPLY_KEYS), {"tip_id": tip_id, **reply_key})
            if files:
                rows = [{"tip_id": tip_id, "ciphertext": item} for item in files]
                session.execute(insert(ATTACHMENTS), rows)
            return
    # Otherwise stored by an earlier flush (a crash after its commit, or a retried form).


STORE_TIP = text(
    "SELECT intake_store_tip(CAST(:tip_id AS integer), CAST(:received_on AS date), "
    "CAST(:language AS text), CAST(:topic AS text), CAST(:sealed_key AS bytea), "
    "CAST(:ciphertext AS bytea), CAST(:receipt_hash AS bytea), CAST(:salt AS bytea), "
    "CAST(:public_key AS bytea), CAST(:files AS bytea[]))"
)
TIPS = Tip.metadata.tables["tips"]
ATTACHMENTS = Attachment.metadata.tables["attachments"]
REPLY_KEYS = TipReplyKey.metadata.tables["tip_reply_keys"]
TIP_FIELDS = frozenset(
    {
        "received_on",
        "language",
        "topic",
        "sealed_key",
        "ciphertext",
        "receipt_hash",
        "attachments",
        "reply_salt",
        "reply_public_key",
    }
)
records.register(records.RecordKind("tip", store_tip_record, TIP_FIELDS))
