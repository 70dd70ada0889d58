"""The tipster's side of a conversation, read: find a tip by its code, show its replies.

Every read names the tip by its receipt hash only (never its id). On PostgreSQL the intake's
role may read no table (privileges.py), so each read is a call of one of its narrow functions
(migration 0014_intake_functions); on SQLite, the single-user development default, the same
read is a plain query. The writes a tipster asks for are spooled (followup.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from sqlalchemy import BindParameter, Connection, Executable, bindparam, select, text

from form_service.crypto import normalize_receipt_code, receipt_hash
from form_service.intake.submit import derive
from form_service.models import MessageDirection, Tip, TipMessage, TipReplyKey, TipStatus
from form_service.replykeys import (
    REPLY_SALT_BYTES,
    ReplyKey,
    derive_reply_private_key,
    open_for_tipster,
)

# Looked up in place of a malformed code, so every lookup does the same work.
_STAND_IN_CODE = "0" * 25
HASH: BindParameter[bytes] = bindparam("hash")
# Each read: (on PostgreSQL, through the intake's function; on SQLite, the plain query).
FIND_TIP = (
    text("SELECT salt FROM intake_find_tip(CAST(:hash AS bytea))"),
    select(TipReplyKey.salt)
    .select_from(Tip)
    .outerjoin(TipReplyKey, TipReplyKey.tip_id == Tip.tip_id)
    .where(Tip.receipt_hash == HASH),
)
READ_TIP = (
    text("SELECT status, received_on FROM intake_read_tip(CAST(:hash AS bytea))"),
    select(Tip.status, Tip.received_on).where(Tip.receipt_hash == HASH),
)
TIP_MESSAGES = (
    text(
        "SELECT message_id, direction, sent_on, tipster_ciphertext, deleted_on "
        "FROM intake_tip_messages(CAST(:hash AS bytea)) ORDER BY sent_on, sequence"
    ),
    select(
        TipMessage.message_id,
        TipMessage.direction,
        TipMessage.sent_on,
        TipMessage.tipster_ciphertext,
        TipMessage.deleted_on,
    )
    .join(Tip, Tip.tip_id == TipMessage.tip_id)
    .where(Tip.receipt_hash == HASH)
    .order_by(TipMessage.sent_on, TipMessage.sequence),
)


def for_database(connection: Connection, statements: tuple[Executable, Executable]) -> Executable:
    """Pick a read's statement for the connection's database."""
    return statements[0] if connection.dialect.name == "postgresql" else statements[1]


class PublicStatus(StrEnum):
    """What a tipster is told about their tip: never the desk's internal states."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    CLOSED = "closed"


def public_status(status: TipStatus) -> PublicStatus:
    """Map the desk's workflow state to the three states a tipster sees."""
    if status == TipStatus.NEW:
        return PublicStatus.RECEIVED
    if status == TipStatus.CLOSED:
        return PublicStatus.CLOSED
    return PublicStatus.IN_REVIEW


@dataclass(frozen=True)
class FoundTip:
    """A tip found by its code: its receipt hash and the reply key the code opens."""

    receipt_hash: bytes
    private_key: bytes
    # Set when the tip had no reply key yet: the key to spool for it (followup.py).
    new_reply_key: ReplyKey | None = None


def first_reply_salt(secret: str, hashed: bytes) -> bytes:
    """Return the salt of a tip's first reply key, the same at every lookup until stored.

    A tip sent before reply keys existed gets one when its tipster comes back; the key waits
    in the spool until the next batch, and a second lookup meanwhile must derive the same
    key, or the session it opens could not read the replies sealed to the stored one.
    """
    return derive(secret, "reply salt", hashed.hex())[:REPLY_SALT_BYTES]


def find_tip(connection: Connection, pepper: str, secret: str, typed: str) -> FoundTip | None:
    """Find a tip by a typed code with the same work for a good, unknown or malformed one."""
    digits = normalize_receipt_code(typed)
    code = digits or _STAND_IN_CODE
    hashed = receipt_hash(pepper, code)
    row = connection.execute(for_database(connection, FIND_TIP), {"hash": hashed}).one_or_none()
    stored_salt = row.salt if row is not None else None
    # Derived whether or not the tip exists, so a miss takes as long as a hit.
    private_key = derive_reply_private_key(code, stored_salt or first_reply_salt(secret, hashed))
    if digits is None or row is None:
        return None
    new_key = None
    if stored_salt is None:
        new_key = ReplyKey(first_reply_salt(secret, hashed), bytes(private_key.public_key))
    return FoundTip(hashed, bytes(private_key), new_key)


@dataclass(frozen=True)
class PublicMessage:
    """One message as the tipster sees it: a reply's text, or only the day of a follow-up."""

    message_id: str
    direction: MessageDirection
    sent_on: dt.date
    text: str | None
    deleted: bool


@dataclass(frozen=True)
class PublicTip:
    """What the check page shows: the public status, the day sent, the conversation."""

    status: PublicStatus
    received_on: dt.date
    messages: tuple[PublicMessage, ...]


def read_tip(connection: Connection, hashed: bytes, private_key: bytes) -> PublicTip | None:
    """Read a tip's public status and its conversation, opening replies with the reply key."""
    tip = connection.execute(for_database(connection, READ_TIP), {"hash": hashed}).one_or_none()
    if tip is None:
        return None
    key = PrivateKey(private_key)
    rows = connection.execute(for_database(connection, TIP_MESSAGES), {"hash": hashed})
    messages = tuple(
        PublicMessage(
            message_id=row.message_id,
            direction=MessageDirection(row.direction),
            sent_on=row.sent_on,
            text=_open_reply(key, row.tipster_ciphertext),
            deleted=row.deleted_on is not None,
        )
        for row in rows
    )
    return PublicTip(public_status(TipStatus(tip.status)), tip.received_on, messages)


def _open_reply(key: PrivateKey, sealed: bytes | None) -> str | None:
    """Open a reply's tipster copy, or None for a follow-up or a deleted reply."""
    if sealed is None:
        return None
    try:
        return open_for_tipster(key, sealed)
    except CryptoError:
        return None  # sealed to an earlier key of this tip: it cannot be shown
