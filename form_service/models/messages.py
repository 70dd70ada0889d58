"""The conversation on a tip: the tipster's follow-ups and the desk's replies, all sealed."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from form_service.models.base import Base, enum_column

TIP_FK = "tips.tip_id"


class MessageDirection(StrEnum):
    """Who wrote a message: the tipster (to the desk) or the desk (to the tipster)."""

    TO_DESK = "to_desk"
    TO_TIPSTER = "to_tipster"


class TipReplyKey(Base):
    """The public half of a tip's reply key and the salt it was derived with (never the code)."""

    __tablename__ = "tip_reply_keys"

    tip_id: Mapped[int] = mapped_column(ForeignKey(TIP_FK, ondelete="CASCADE"), primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))


class TipMessage(Base):
    """One follow-up or reply; the day only, like a tip, never a time of day."""

    __tablename__ = "tip_messages"

    # A random id, made by whoever writes the message, so a retried write is recognised.
    message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey(TIP_FK, ondelete="CASCADE"))
    direction: Mapped[MessageDirection] = mapped_column(
        enum_column(MessageDirection, "direction", 16)
    )
    sent_on: Mapped[dt.date] = mapped_column(Date)
    # Orders the messages of one day: a counter per tip, not a clock.
    sequence: Mapped[int] = mapped_column(Integer)
    # The message's key sealed to the desk key, and its text under that key (as a tip).
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Replies only: the text sealed to the tip's reply key; emptied when the tipster deletes it.
    tipster_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Replies only: which staff member wrote it (kept after the account goes).
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.staff_id", ondelete="SET NULL"), default=None
    )
    # Follow-ups: whether the desk has opened it yet (drives the inbox's unread marker).
    seen_by_desk: Mapped[bool] = mapped_column(Boolean, default=False)
    # Replies: the day the tipster deleted their copy, which the desk is shown.
    deleted_on: Mapped[dt.date | None] = mapped_column(Date, default=None)

    __table_args__ = (
        Index("ix_tip_messages_tip", "tip_id", "sequence"),
        Index("ix_tip_messages_unread", "seen_by_desk", "direction", "tip_id"),
    )


class MessageAttachment(Base):
    """One file of a follow-up, encrypted with the message's key together with its metadata."""

    __tablename__ = "tip_message_attachments"

    attachment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("tip_messages.message_id", ondelete="CASCADE"), index=True
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class ReplyTemplate(Base):
    """A reply the desk often sends, kept per language and managed by admins."""

    __tablename__ = "reply_templates"

    template_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_reply_templates_language", "language", "title"),)
