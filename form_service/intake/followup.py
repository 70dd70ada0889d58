"""The tipster's side of a conversation: find a tip by its code, read replies, add more.

The writes here are the `store` callbacks of records the intake spools (a reply key for a
tip sent before reply keys existed, a follow-up, the deletion of a read reply): each takes
a session and a JSON-ready payload whose sealed parts are base64, and is idempotent.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment, normalize_receipt_code, receipt_hash, seal_tip
from form_service.models import (
    MessageAttachment,
    MessageDirection,
    Tip,
    TipMessage,
    TipReplyKey,
    TipStatus,
)
from form_service.replykeys import REPLY_SALT_BYTES, derive_reply_private_key, open_for_tipster

# Looked up in place of a malformed code, so every lookup does the same work.
_STAND_IN_CODE = "0" * 25


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
    """A tip found by its code: its id and the reply key the code opens."""

    tip_id: int
    private_key: bytes
    # Set when the tip had no reply key yet: the record that stores one.
    new_reply_key: Mapping[str, Any] | None = None


def find_tip(connection: Connection, pepper: str, typed: str) -> FoundTip | None:
    """Find a tip by a typed code with the same work for a good, unknown or malformed one."""
    digits = normalize_receipt_code(typed)
    code = digits or _STAND_IN_CODE
    row = connection.execute(
        select(Tip.tip_id, TipReplyKey.salt)
        .outerjoin(TipReplyKey, TipReplyKey.tip_id == Tip.tip_id)
        .where(Tip.receipt_hash == receipt_hash(pepper, code))
    ).one_or_none()
    stored_salt = row.salt if row is not None else None
    salt = stored_salt or secrets.token_bytes(REPLY_SALT_BYTES)
    # Derived whether or not the tip exists, so a miss takes as long as a hit.
    private_key = derive_reply_private_key(code, salt)
    if digits is None or row is None:
        return None
    new_key = None
    if stored_salt is None:
        new_key = {
            "tip_id": row.tip_id,
            "salt": _b64(salt),
            "public_key": _b64(bytes(private_key.public_key)),
        }
    return FoundTip(tip_id=row.tip_id, private_key=bytes(private_key), new_reply_key=new_key)


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


def read_tip(connection: Connection, tip_id: int, private_key: bytes) -> PublicTip | None:
    """Read a tip's public status and its conversation, opening replies with the reply key."""
    tip = connection.execute(
        select(Tip.status, Tip.received_on).where(Tip.tip_id == tip_id)
    ).one_or_none()
    if tip is None:
        return None
    key = PrivateKey(private_key)
    rows = connection.execute(
        select(
            TipMessage.message_id,
            TipMessage.direction,
            TipMessage.sent_on,
            TipMessage.tipster_ciphertext,
            TipMessage.deleted_on,
        )
        .where(TipMessage.tip_id == tip_id)
        .order_by(TipMessage.sent_on, TipMessage.sequence)
    )
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


def follow_up_record(
    public_key: PublicKey,
    tip_id: int,
    text: str,
    attachments: Sequence[PlainAttachment],
    today: dt.date,
) -> dict[str, Any]:
    """Seal a follow-up to the desk exactly like a first tip and return its record."""
    sealed = seal_tip(public_key, {"message": text}, attachments)
    return {
        "message_id": secrets.token_hex(16),
        "tip_id": tip_id,
        "sent_on": today.isoformat(),
        "sealed_key": _b64(sealed.sealed_key),
        "ciphertext": _b64(sealed.ciphertext),
        "attachments": [_b64(item) for item in sealed.attachments],
    }


def store_reply_key(session: Session, payload: Mapping[str, Any]) -> None:
    """Store a tip's first reply key; a tip that has one already keeps it."""
    tip_id = int(payload["tip_id"])
    if session.get(TipReplyKey, tip_id) is not None:
        return
    session.execute(
        insert(TipReplyKey).values(
            tip_id=tip_id,
            salt=_unb64(payload["salt"]),
            public_key=_unb64(payload["public_key"]),
        )
    )


def store_follow_up(session: Session, payload: Mapping[str, Any]) -> None:
    """Store a follow-up and its files after the tip's last message (skipped if stored)."""
    message_id = str(payload["message_id"])
    if session.get(TipMessage, message_id) is not None:
        return
    tip_id = int(payload["tip_id"])
    last = session.scalar(select(func.max(TipMessage.sequence)).where(TipMessage.tip_id == tip_id))
    session.execute(
        insert(TipMessage).values(
            message_id=message_id,
            tip_id=tip_id,
            direction=MessageDirection.TO_DESK,
            sent_on=dt.date.fromisoformat(payload["sent_on"]),
            sequence=(last or 0) + 1,
            sealed_key=_unb64(payload["sealed_key"]),
            ciphertext=_unb64(payload["ciphertext"]),
            seen_by_desk=False,
        )
    )
    files = [
        {"message_id": message_id, "ciphertext": _unb64(item)} for item in payload["attachments"]
    ]
    if files:
        session.execute(insert(MessageAttachment), files)


def store_reply_deletion(session: Session, payload: Mapping[str, Any]) -> None:
    """Erase the tipster's copy of one reply of their tip and note the day it was done."""
    session.execute(
        update(TipMessage)
        .where(
            TipMessage.message_id == str(payload["message_id"]),
            TipMessage.tip_id == int(payload["tip_id"]),
            TipMessage.direction == MessageDirection.TO_TIPSTER,
            TipMessage.deleted_on.is_(None),
        )
        .values(tipster_ciphertext=None, deleted_on=dt.date.fromisoformat(payload["deleted_on"]))
    )


def _b64(data: bytes) -> str:
    """Encode bytes for a JSON record."""
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode bytes from a JSON record."""
    return base64.b64decode(text, validate=True)
