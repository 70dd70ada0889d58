"""The desk's side of a conversation: write a reply, read the whole thread, templates.

A reply is stored twice: sealed to the desk key (so the desk can show its own history) and
sealed to the tip's reply key (so the tipster can read it with the code). Opening the
tipster's copy needs the code, which nobody here has.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from nacl.public import PrivateKey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment, open_attachment, open_tip, seal_tip
from form_service.models import (
    MessageAttachment,
    MessageDirection,
    ReplyTemplate,
    Staff,
    Tip,
    TipMessage,
    TipReplyKey,
)
from form_service.replykeys import seal_for_tipster
from form_service.review import audit, deadlines, workflow

MAX_REPLY_CHARS = 10_000


class NoReplyKey(LookupError):
    """The tip was sent before reply keys existed and its tipster has not come back yet."""


@dataclass(frozen=True)
class ThreadItem:
    """One message of a tip's conversation as the desk sees it."""

    message_id: str
    direction: MessageDirection
    sent_on: dt.date
    text: str
    author: str | None
    attachments: tuple[PlainAttachment, ...]
    deleted_on: dt.date | None
    unread: bool


def can_reply(db: Session, tip_id: int) -> bool:
    """Tell whether the tip has a reply key (else its tipster must look it up first)."""
    return db.get(TipReplyKey, tip_id) is not None


def send_reply(
    db: Session, tip: Tip, staff: Staff, private_key: PrivateKey, text: str, today: dt.date
) -> str:
    """Seal a reply to the desk and to the tipster, store it and audit it (not its text)."""
    reply_key = db.get(TipReplyKey, tip.tip_id)
    if reply_key is None:
        raise NoReplyKey(tip.tip_id)
    sealed = seal_tip(private_key.public_key, {"message": text}, [])
    last = db.scalar(select(func.max(TipMessage.sequence)).where(TipMessage.tip_id == tip.tip_id))
    message_id = secrets.token_hex(16)
    db.add(
        TipMessage(
            message_id=message_id,
            tip_id=tip.tip_id,
            direction=MessageDirection.TO_TIPSTER,
            sent_on=today,
            sequence=(last or 0) + 1,
            sealed_key=sealed.sealed_key,
            ciphertext=sealed.ciphertext,
            tipster_ciphertext=seal_for_tipster(reply_key.public_key, text),
            author_id=staff.staff_id,
            seen_by_desk=True,
        )
    )
    deadlines.on_reply_to_tipster(workflow.triage_of(db, tip.tip_id), today)
    audit.record(db, staff.email, "reply.send", tip.tip_id, message=message_id)
    return message_id


def thread(db: Session, tip_id: int, private_key: PrivateKey) -> list[ThreadItem]:
    """Open every follow-up and reply of a tip, oldest first, with who replied."""
    rows = db.execute(
        select(TipMessage, Staff.email)
        .outerjoin(Staff, Staff.staff_id == TipMessage.author_id)
        .where(TipMessage.tip_id == tip_id)
        .order_by(TipMessage.sent_on, TipMessage.sequence)
    ).all()
    items = []
    for message, email in rows:
        files = db.scalars(
            select(MessageAttachment.ciphertext)
            .where(MessageAttachment.message_id == message.message_id)
            .order_by(MessageAttachment.attachment_id)
        )
        items.append(
            ThreadItem(
                message_id=message.message_id,
                direction=MessageDirection(message.direction),
                sent_on=message.sent_on,
                text=str(open_tip(private_key, message.sealed_key, message.ciphertext)["message"]),
                author=email,
                attachments=tuple(
                    open_attachment(private_key, message.sealed_key, item) for item in files
                ),
                deleted_on=message.deleted_on,
                unread=not message.seen_by_desk,
            )
        )
    return items


def open_message_file(
    db: Session, private_key: PrivateKey, tip_id: int, message_id: str, number: int
) -> PlainAttachment | None:
    """Decrypt the n-th file (from 1) of one message of one tip, or None if there is none."""
    message = db.get(TipMessage, message_id)
    if message is None or message.tip_id != tip_id or number < 1:
        return None
    sealed = db.scalars(
        select(MessageAttachment.ciphertext)
        .where(MessageAttachment.message_id == message_id)
        .order_by(MessageAttachment.attachment_id)
        .offset(number - 1)
        .limit(1)
    ).first()
    return None if sealed is None else open_attachment(private_key, message.sealed_key, sealed)


def mark_seen(db: Session, tip_id: int) -> int:
    """Mark a tip's follow-ups as read by the desk; return how many were unread."""
    result = db.execute(
        update(TipMessage)
        .where(TipMessage.tip_id == tip_id, TipMessage.seen_by_desk.is_(False))
        .values(seen_by_desk=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def unread_count(db: Session) -> int:
    """Count the tips that have follow-ups the desk has not read yet."""
    unread = select(TipMessage.tip_id).where(TipMessage.seen_by_desk.is_(False)).distinct()
    return int(db.scalar(select(func.count()).select_from(unread.subquery())) or 0)


def unread_tip_ids(db: Session, tip_ids: list[int]) -> set[int]:
    """Return which of the given tips have unread follow-ups."""
    if not tip_ids:
        return set()
    return set(
        db.scalars(
            select(TipMessage.tip_id)
            .where(TipMessage.seen_by_desk.is_(False), TipMessage.tip_id.in_(tip_ids))
            .distinct()
        )
    )


def templates_for(db: Session, language: str) -> list[ReplyTemplate]:
    """Return the reply templates of one language, by title."""
    return list(
        db.scalars(
            select(ReplyTemplate)
            .where(ReplyTemplate.language == language)
            .order_by(ReplyTemplate.title)
        )
    )


def all_templates(db: Session) -> list[ReplyTemplate]:
    """Return every reply template, by language and title."""
    return list(
        db.scalars(select(ReplyTemplate).order_by(ReplyTemplate.language, ReplyTemplate.title))
    )
